#pragma once

#include <QByteArray>
#include <QString>
#include <utility>
#include <vector>

namespace sluice {

enum class LogFormat
{
    Text,
    Json
};
enum class LogLevel
{
    Debug,
    Info,
    Warning,
    Error
};

// Installs the process-wide Qt message handler: one line per message on stderr, as text
// ("2026-11-23T18:00:00.123Z info  sluice.server: listening on 127.0.0.1:8081") or as JSON
// ({"ts":...,"level":"info","logger":"sluice.server","msg":"..."}), filtered by level.
class LogSetup
{
public:
    static void install(LogLevel level, LogFormat format);
    static LogFormat format();

    // Structured line (access log): fields become JSON members in json format and
    // key=value pairs in text format. Written directly, bypassing category filtering
    // except for the level check done by the caller.
    struct Field
    {
        const char *key;
        QByteArray value;
        bool number = false;  // written unquoted in JSON
    };
    using Fields = std::vector<Field>;
    // An info line with fields (the access log). Written within 50 ms, batched with others,
    // rather than with a write(2) of its own; any other log line flushes it first.
    static void writeStructured(const char *category, const QByteArray &message,
                                const Fields &fields);

    // JSON string escaping shared by the formatter and other writers.
    static void appendJsonString(QByteArray &out, QByteArrayView s);
};

}  // namespace sluice
