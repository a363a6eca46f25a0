#include "DatabaseThread.h"

#include "DatabaseConnection.h"
#include "LogCategories.h"

namespace sluice {

DatabaseThread::DatabaseThread(const DatabaseUrl &url, const QString &role, QueryObserver observer,
                               QObject *parent)
    : QObject(parent),
      m_url(url),
      m_role(role),
      m_observer(std::move(observer)),
      m_context(new QObject)
{
    m_thread.setObjectName(QStringLiteral("db-") + role);
    m_context->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
    m_thread.start();
}

DatabaseThread::~DatabaseThread()
{
    // Queued behind every job already posted: they finish, then the connection closes on the
    // thread that opened it, then the thread ends.
    QMetaObject::invokeMethod(m_context, [this] {
        m_connection.reset();
        QThread::currentThread()->quit();
    });
    m_thread.wait();
}

void DatabaseThread::ensureOpen()
{
    if (!m_connection) {
        m_connection = std::make_unique<DatabaseConnection>(m_url, m_role);
        m_connection->setQueryObserver(m_observer);
    }
    if (!m_connection->isOpen()) {
        QString error;
        if (!m_connection->open(&error))
            qCWarning(lcStorage).noquote() << m_role << "database:" << error;
    }
}

void DatabaseThread::post(Job job)
{
    QMetaObject::invokeMethod(m_context, [this, job = std::move(job)] {
        ensureOpen();
        job(*m_connection);
    });
}

void DatabaseThread::runSync(Job job)
{
    Q_ASSERT(QThread::currentThread() != &m_thread);
    QMetaObject::invokeMethod(
        m_context,
        [this, &job] {
            ensureOpen();
            job(*m_connection);
        },
        Qt::BlockingQueuedConnection);
}

}  // namespace sluice
