// WriterThread on its own, with a real thread and scripted hooks: flush() is served by one
// write attempt (also when it fails, so it never waits for a database that stays down), due()
// and the hooks' timeout wake the writer, stop() runs one last cycle and then finished(), the
// retry on the last cycle, and the connection lives on the writer thread only.

#include "DatabaseConnection.h"
#include "WriterThread.h"

#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <atomic>
#include <utility>

using namespace sluice;

namespace {

// Counts and scripts what the writer thread does; `queue` and `waitFor` are shared (under the
// writer's mutex), the rest is the writer thread's or atomic.
struct ScriptedHooks : WriterThread::Hooks
{
    explicit ScriptedHooks(const DatabaseUrl &url)
        : writer(*this, QStringLiteral("db-test"), url, QStringLiteral("test"), {})
    {}

    void started() override
    {
        threadName = QThread::currentThread()->objectName();
        connectionOnThisThread = writer.connection().isOwnedByCurrentThread();
    }
    bool due() const override { return queue >= 3; }
    qint64 waitMs() const override { return waitFor; }
    void take() override
    {
        taken = std::exchange(queue, 0);
        ++cycles;
    }
    bool write(bool stop, QString *error) override
    {
        lastStop = stop;
        return writer.attempt(
            stop,
            [this](QString *e) {
                ++attempts;
                if (fail)
                    *e = QStringLiteral("database is down");
                return !fail;
            },
            error);
    }
    void record(bool ok) override { written += ok ? taken : 0; }
    void finished() override { finishedAfterStop = lastStop; }

    void push(int n)
    {
        std::lock_guard lock(writer.mutex());
        queue += n;
        writer.wake();
    }

    WriterThread writer;
    int queue = 0;
    qint64 waitFor = -1;
    int taken = 0;
    std::atomic<int> written{0};
    std::atomic<int> cycles{0};
    std::atomic<int> attempts{0};
    std::atomic<bool> fail{false};
    std::atomic<bool> lastStop{false};
    bool finishedAfterStop = false;
    QString threadName;
    bool connectionOnThisThread = false;
};

}  // namespace

class TestWriterThread : public QObject
{
    Q_OBJECT
private slots:
    void flushIsServedByOneWrite();
    void failedFlushReturnsTheError();
    void dueWakesTheWriter();
    void timeoutWakesTheWriter();
    void stopRunsOneLastCycle();

private:
    DatabaseUrl url() const;
    QTemporaryDir m_tmp;
};

DatabaseUrl TestWriterThread::url() const
{
    DatabaseUrl url;
    url.driver = DatabaseUrl::Driver::Sqlite;
    url.path = m_tmp.filePath(QStringLiteral("unused.db"));  // never opened
    return url;
}

void TestWriterThread::flushIsServedByOneWrite()
{
    ScriptedHooks h(url());
    h.writer.start();
    h.push(1);  // not due, and no timeout: only flush() writes it
    QTest::qWait(50);
    QCOMPARE(h.written.load(), 0);
    {
        std::unique_lock lock(h.writer.mutex());
        QString error;
        QVERIFY(h.writer.flushAndWait(lock, &error));
        QVERIFY(error.isEmpty());
    }
    QCOMPARE(h.written.load(), 1);
    QCOMPARE(h.attempts.load(), 1);
    h.writer.stop();
    QCOMPARE(h.threadName, QStringLiteral("db-test"));
    QVERIFY(h.connectionOnThisThread);
}

void TestWriterThread::failedFlushReturnsTheError()
{
    ScriptedHooks h(url());
    h.fail = true;
    h.writer.start();
    h.push(1);
    std::unique_lock lock(h.writer.mutex());
    QString error;
    QVERIFY(!h.writer.flushAndWait(lock, &error));
    QCOMPARE(error, QStringLiteral("database is down"));
    QCOMPARE(h.writer.lastError(), QStringLiteral("database is down"));
    // The connection was never open: no retry before the last cycle.
    QCOMPARE(h.attempts.load(), 1);
    lock.unlock();
    h.fail = false;
    h.writer.stop();
}

void TestWriterThread::dueWakesTheWriter()
{
    ScriptedHooks h(url());
    h.writer.start();
    h.push(2);
    QTest::qWait(50);
    QCOMPARE(h.written.load(), 0);
    h.push(1);  // due() now
    QTRY_COMPARE(h.written.load(), 3);
    h.writer.stop();
}

void TestWriterThread::timeoutWakesTheWriter()
{
    ScriptedHooks h(url());
    {
        std::lock_guard lock(h.writer.mutex());
        h.waitFor = 20;
    }
    h.writer.start();
    h.push(1);
    QTRY_COMPARE(h.written.load(), 1);
    QVERIFY(h.cycles.load() >= 1);
    h.writer.stop();
}

void TestWriterThread::stopRunsOneLastCycle()
{
    ScriptedHooks h(url());
    h.fail = true;
    h.writer.start();
    h.push(1);
    h.writer.stop();
    // The last cycle wrote with stop set, retried at once (attempt()), then finished().
    QVERIFY(h.lastStop);
    QVERIFY(h.finishedAfterStop);
    QCOMPARE(h.attempts.load(), 2);
    QCOMPARE(h.written.load(), 0);
    h.writer.stop();  // idempotent
}

QTEST_GUILESS_MAIN(TestWriterThread)
#include "tst_writerthread.moc"
