#pragma once

#include "DatabaseConnection.h"
#include "DatabaseUrl.h"

#include <QObject>
#include <QThread>
#include <functional>
#include <memory>

namespace sluice {

// A thread that owns one DatabaseConnection and runs jobs on it in order, so callers on event
// loops (HTTP workers, the admin listener, the GUI) never block on SQL. Results travel back
// by the job posting to the caller's context object (QMetaObject::invokeMethod).
//
//   db.post([=](DatabaseConnection &c) {
//       auto r = AdminService(c, actor).listUsers(...);
//       QMetaObject::invokeMethod(context, [=] { reply(r); });
//   });
class DatabaseThread : public QObject
{
    Q_OBJECT
public:
    using Job = std::function<void(DatabaseConnection &)>;

    // Opens the connection on the new thread; a failed open is retried by every job (each job
    // then sees a closed connection and reports the error itself through the connection API).
    DatabaseThread(const DatabaseUrl &url, const QString &role, QueryObserver observer = {},
                   QObject *parent = nullptr);
    // Runs the jobs already posted, then closes the connection on its thread and joins it.
    ~DatabaseThread() override;

    // Thread-safe. Jobs run one at a time in posting order.
    void post(Job job);
    // Runs `job` and waits for it (start-up, tests, the CLI). Never from an event loop that
    // must stay responsive.
    void runSync(Job job);
    QThread *thread() { return &m_thread; }

private:
    void ensureOpen();

    DatabaseUrl m_url;
    QString m_role;
    QueryObserver m_observer;
    QThread m_thread;
    QObject *m_context;                                // lives on m_thread
    std::unique_ptr<DatabaseConnection> m_connection;  // created, used and destroyed on m_thread
};

}  // namespace sluice
