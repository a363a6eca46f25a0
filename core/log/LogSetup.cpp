#include "LogSetup.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <atomic>
#include <cstdio>
#include <mutex>

namespace sluice {
namespace {

std::atomic<LogFormat> g_format{LogFormat::Text};
std::mutex g_writeMutex;

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

void writeLine(const QByteArray &line)
{
    // One fwrite per line under a mutex: lines from worker threads never interleave.
    std::lock_guard lock(g_writeMutex);
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
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
    writeLine(line);
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
