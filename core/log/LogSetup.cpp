#include "LogSetup.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace sluice {
namespace {

std::atomic<LogFormat> g_format{LogFormat::Text};

const char *levelName(QtMsgType type)
{
    switch (type) {
        case QtDebugMsg:
            return "debug";
        case QtInfoMsg:
            return "info";
        case QtWarningMsg:
            return "warning";
        case QtCriticalMsg:
            return "error";
        case QtFatalMsg:
            return "fatal";
    }
    return "info";
}

QByteArray timestamp()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toUtf8();
}

// Access-log lines (one per request) are gathered and written every 50 ms, or at once when
// 64 KiB are waiting: a write(2) per request was 5 % of the gateway's CPU under load. Every
// other line is written at once, after whatever is waiting, so the order never changes. Lines
// still waiting when the process dies abruptly (not at a normal exit) are lost: 50 ms at most.
class LineWriter
{
public:
    LineWriter() : m_thread([this] { run(); }) {}
    ~LineWriter()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_one();
        m_thread.join();
        std::lock_guard lock(m_mutex);
        flushLocked();
    }

    void write(const QByteArray &line, bool now)
    {
        std::unique_lock lock(m_mutex);
        const bool wasEmpty = m_pending.isEmpty();
        m_pending += line;
        if (now || m_stopping || m_pending.size() >= kMaxPending)
            flushLocked();
        else if (wasEmpty)
            m_wake.notify_one();
    }

private:
    static constexpr qsizetype kMaxPending = 64 * 1024;

    void run()
    {
        std::unique_lock lock(m_mutex);
        while (!m_stopping) {
            m_wake.wait(lock, [this] { return m_stopping || !m_pending.isEmpty(); });
            m_wake.wait_for(lock, std::chrono::milliseconds(50), [this] { return m_stopping; });
            flushLocked();
        }
    }
    void flushLocked()
    {
        if (m_pending.isEmpty())
            return;
        std::fwrite(m_pending.constData(), 1, size_t(m_pending.size()), stderr);
        std::fflush(stderr);
        m_pending.clear();
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;
    QByteArray m_pending;
    bool m_stopping = false;
    std::thread m_thread;  // last: started once the members it uses exist
};

void writeLine(const QByteArray &line, bool now = true)
{
    static LineWriter writer;
    writer.write(line, now);
}

void handler(QtMsgType type, const QMessageLogContext &ctx, const QString &msg)
{
    const char *category = ctx.category ? ctx.category : "default";
    QByteArray line;
    line.reserve(msg.size() + 96);
    if (g_format.load(std::memory_order_relaxed) == LogFormat::Json) {
        line += "{\"ts\":\"";
        line += timestamp();
        line += "\",\"level\":\"";
        line += levelName(type);
        line += "\",\"logger\":";
        LogSetup::appendJsonString(line, category);
        line += ",\"msg\":";
        LogSetup::appendJsonString(line, msg.toUtf8());
        line += "}\n";
    } else {
        line += timestamp();
        line += ' ';
        line += QByteArray(levelName(type)).leftJustified(8, ' ');
        line += category;
        line += ": ";
        line += msg.toUtf8();
        line += '\n';
    }
    writeLine(line);
}

}  // namespace

void LogSetup::install(LogLevel level, LogFormat format)
{
    g_format.store(format);
    // Qt's own categories ("qt.*") stay at warning unless debugging.
    QString rules;
    switch (level) {
        case LogLevel::Debug:
            rules = QStringLiteral("sluice.*=true\nqt.*.debug=false");
            break;
        case LogLevel::Info:
            rules = QStringLiteral("*.debug=false\nsluice.*.info=true");
            break;
        case LogLevel::Warning:
            rules = QStringLiteral("*.debug=false\n*.info=false");
            break;
        case LogLevel::Error:
            rules = QStringLiteral("*.debug=false\n*.info=false\n*.warning=false");
            break;
    }
    QLoggingCategory::setFilterRules(rules);
    qInstallMessageHandler(handler);
}

LogFormat LogSetup::format()
{
    return g_format.load(std::memory_order_relaxed);
}

void LogSetup::writeStructured(const char *category, const QByteArray &message,
                               const Fields &fields)
{
    QByteArray line;
    line.reserve(256);
    if (format() == LogFormat::Json) {
        line += "{\"ts\":\"";
        line += timestamp();
        line += "\",\"level\":\"info\",\"logger\":";
        appendJsonString(line, category);
        line += ",\"msg\":";
        appendJsonString(line, message);
        for (const Field &f : fields) {
            line += ",\"";
            line += f.key;
            line += "\":";
            if (f.number && !f.value.isEmpty())
                line += f.value;
            else if (f.value.isEmpty())
                line += "null";
            else
                appendJsonString(line, f.value);
        }
        line += "}\n";
    } else {
        line += timestamp();
        line += " info    ";
        line += category;
        line += ": ";
        line += message;
        for (const Field &f : fields) {
            line += ' ';
            line += f.key;
            line += '=';
            line += f.value.isEmpty() ? QByteArray("-") : f.value;
        }
        line += '\n';
    }
    writeLine(line, false);
}

void LogSetup::appendJsonString(QByteArray &out, QByteArrayView s)
{
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20) {
                    out += "\\u00";
                    out += hex[u >> 4];
                    out += hex[u & 0xf];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

}  // namespace sluice
