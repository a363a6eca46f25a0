#include "DashboardDriver.h"

#include "Dashboard.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QQuickItem>
#include <QQuickWindow>
#include <QTimer>
#include <QXYSeries>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <thread>

namespace sluice {

namespace {
constexpr int kSettleMs = 800;  // a page change is drawn (charts filled) within this

// Every QObject in the item tree: the items and their non-visual children (chart series),
// including delegates, whose QObject parent is not the view.
void visit(QQuickItem *item, const std::function<void(QObject *)> &f)
{
    if (!item)
        return;
    f(item);
    for (QObject *child : item->children()) {
        if (!qobject_cast<QQuickItem *>(child))
            f(child);
    }
    for (QQuickItem *child : item->childItems())
        visit(child, f);
}

QObject *findByName(QQuickItem *root, const QString &name)
{
    QObject *found = nullptr;
    visit(root, [&](QObject *o) {
        if (!found && o->objectName() == name)
            found = o;
    });
    return found;
}
}  // namespace

DashboardDriver::DashboardDriver(QQuickWindow *window, Dashboard *dashboard, QObject *parent)
    : QObject(parent), m_window(window), m_dashboard(dashboard)
{}

void DashboardDriver::start()
{
    // Blocking reads on a detached thread: it ends with the process (or at end of input).
    QPointer<DashboardDriver> self(this);
    std::thread([self] {
        std::string line;
        while (std::getline(std::cin, line)) {
            const QString text = QString::fromStdString(line).trimmed();
            QMetaObject::invokeMethod(self, [self, text] {
                if (!self)
                    return;
                self->m_queue.append(text);
                self->next();
            });
        }
    }).detach();
}

void DashboardDriver::reply(const QByteArray &text)
{
    std::fprintf(stdout, "driver: %s\n", text.constData());
    std::fflush(stdout);
}

void DashboardDriver::next()
{
    if (m_busy || m_queue.isEmpty())
        return;
    run(m_queue.takeFirst());
}

void DashboardDriver::run(const QString &line)
{
    const QStringList words = line.split(u' ', Qt::SkipEmptyParts);
    if (words.isEmpty() || !m_window || !m_dashboard)
        return next();
    const QString command = words.first();
    QQuickItem *root = m_window->contentItem();
    auto finishLater = [this](int ms, QByteArray text) {
        m_busy = true;
        QTimer::singleShot(ms, this, [this, text] {
            m_busy = false;
            reply(text);
            next();
        });
    };
    if (command == QLatin1String("page") && words.size() == 2) {
        m_window->setProperty("currentPage", words.at(1));
        finishLater(kSettleMs, "ok page " + words.at(1).toUtf8());
        return;
    }
    if (command == QLatin1String("shot") && words.size() == 2) {
        const QImage image = m_window->grabWindow();
        const bool saved = image.save(words.at(1), "PNG");
        reply(saved
                  ? QByteArray("ok shot ") + words.at(1).toUtf8() + ' ' +
                        QByteArray::number(image.width()) + 'x' + QByteArray::number(image.height())
                  : QByteArray("error cannot save ") + words.at(1).toUtf8());
        return next();
    }
    if (command == QLatin1String("dump")) {
        reply("ok " + dump());
        return next();
    }
    if (command == QLatin1String("edit-limit") && words.size() >= 3) {
        const QString name = QStringLiteral("limitField:%1:%2").arg(words.at(1), words.at(2));
        QObject *field = findByName(root, name);
        if (!field) {
            reply("error no field " + name.toUtf8());
            return next();
        }
        m_busy = true;
        auto *connection = new QMetaObject::Connection;
        *connection = connect(m_dashboard->editor(), &KeyEditor::finished, this,
                              [this, connection](int, bool ok, const QString &message) {
                                  disconnect(*connection);
                                  delete connection;
                                  m_busy = false;
                                  reply(ok ? QByteArray("ok edit") : "error " + message.toUtf8());
                                  next();
                              });
        field->setProperty("text", words.mid(3).join(u' '));
        QMetaObject::invokeMethod(field, "commit");
        return;
    }
    if (command == QLatin1String("create-key") && words.size() == 2) {
        m_busy = true;
        auto *connection = new QMetaObject::Connection;
        *connection = connect(
            m_dashboard->editor(), &KeyEditor::finished, this,
            [this, connection](int, bool ok, const QString &message, const QVariantMap &result) {
                disconnect(*connection);
                delete connection;
                m_busy = false;
                reply(ok ? "ok key " + result.value(QStringLiteral("key")).toString().toUtf8()
                         : "error " + message.toUtf8());
                next();
            });
        m_dashboard->editor()->createKey(words.at(1), QString(), QString(), true);
        return;
    }
    if (command == QLatin1String("quit")) {
        reply("ok quit");
        emit quitRequested();
        return;
    }
    reply("error unknown command " + line.toUtf8());
    next();
}

QByteArray DashboardDriver::dump() const
{
    QJsonObject out;
    OverviewModel *o = m_dashboard->overview();
    out.insert(QStringLiteral("page"), m_window->property("currentPage").toString());
    out.insert(QStringLiteral("overview"),
               QJsonObject{{QStringLiteral("requests_today"), o->requestsToday()},
                           {QStringLiteral("tokens_today"), o->tokensToday()},
                           {QStringLiteral("active_keys"), o->activeKeys()},
                           {QStringLiteral("listen"), o->listen()},
                           {QStringLiteral("points"), o->pointCount()},
                           {QStringLiteral("has_traffic"), o->hasTraffic()},
                           {QStringLiteral("max_requests_per_second"),
                            o->maximum(QStringLiteral("requests"))}});
    // What the charts on screen hold: the QML LineSeries by name and point count.
    QJsonObject charts;
    // Chart series are not in the item tree: MetricChart names them in properties.
    QList<QXYSeries *> allSeries;
    visit(m_window->contentItem(), [&](QObject *o) {
        for (const char *name : {"firstSeries", "secondSeries"}) {
            if (auto *s = qobject_cast<QXYSeries *>(o->property(name).value<QObject *>()))
                allSeries.append(s);
        }
    });
    for (QXYSeries *series : std::as_const(allSeries)) {
        if (series->objectName().isEmpty())
            continue;
        double max = 0;
        for (const QPointF &p : series->points())
            max = std::max(max, p.y());
        charts.insert(series->objectName(), QJsonObject{{QStringLiteral("points"), series->count()},
                                                        {QStringLiteral("max"), max}});
    }
    out.insert(QStringLiteral("charts"), charts);
    QJsonArray keys;
    KeysModel *k = m_dashboard->keys();
    for (int i = 0; i < k->rowCount(); ++i) {
        const QVariantMap row = k->get(i);
        keys.append(QJsonObject{
            {QStringLiteral("user"), row.value(QStringLiteral("userName")).toString()},
            {QStringLiteral("prefix"), row.value(QStringLiteral("prefix")).toString()},
            {QStringLiteral("tier"), row.value(QStringLiteral("tier")).toString()},
            {QStringLiteral("status"), row.value(QStringLiteral("status")).toString()},
            {QStringLiteral("month_requests"),
             row.value(QStringLiteral("monthRequests")).toDouble()},
            {QStringLiteral("effective"),
             QJsonObject::fromVariantMap(row.value(QStringLiteral("effective")).toMap())}});
    }
    out.insert(QStringLiteral("keys"), keys);
    out.insert(QStringLiteral("tiers"), m_dashboard->tiers()->rowCount());
    out.insert(QStringLiteral("health"),
               QJsonObject{{QStringLiteral("overall"), m_dashboard->health()->overall()},
                           {QStringLiteral("components"), m_dashboard->health()->rowCount()}});
    out.insert(
        QStringLiteral("traffic"),
        QJsonObject{{QStringLiteral("rows"), m_dashboard->traffic()->rowCount()},
                    {QStringLiteral("rate_limited"), m_dashboard->traffic()->rateLimitedCount()}});
    out.insert(QStringLiteral("limit_events"), m_dashboard->limitEvents()->rowCount());
    out.insert(QStringLiteral("violations"),
               m_dashboard->limitEvents()->rowCount() - m_dashboard->limitEvents()->alertCount());
    return QJsonDocument(out).toJson(QJsonDocument::Compact);
}

}  // namespace sluice
