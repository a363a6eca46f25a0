#pragma once

#include <QObject>
#include <QPointer>
#include <QStringList>

class QQuickWindow;

namespace sluice {

class Dashboard;

// A test hook (SLUICE_DASHBOARD_DRIVER=stdin): reads commands from standard input, one a line,
// drives the real window and answers on standard output with a line starting "driver: ok" or
// "driver: error". Used by the end-to-end GUI test and to take the screenshots in the docs.
//   page NAME                     show a page (overview, keys, tiers, health, traffic)
//   shot PATH                     save the window as PNG (QQuickWindow::grabWindow)
//   dump                          what the pages show, as one JSON line
//   edit-limit PREFIX FIELD TEXT  type TEXT into the key's inline limit field and press Enter
//   create-key USER               create USER and a key through the editor; prints the key
//   quit                          quit the application
class DashboardDriver : public QObject
{
    Q_OBJECT
public:
    DashboardDriver(QQuickWindow *window, Dashboard *dashboard, QObject *parent = nullptr);
    // Starts reading standard input on a thread of its own.
    void start();

signals:
    void quitRequested();

private:
    void run(const QString &line);
    void reply(const QByteArray &text);
    QByteArray dump() const;

    QPointer<QQuickWindow> m_window;
    QPointer<Dashboard> m_dashboard;
    QStringList m_queue;
    bool m_busy = false;
    void next();
};

}  // namespace sluice
