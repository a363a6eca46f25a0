#pragma once

#include <QByteArray>
#include <functional>

namespace sluice {

// Splits a text/event-stream into events as bytes arrive, keeping each event's exact bytes so
// the relay forwards them unchanged (one client write per upstream event).
class SseParser
{
public:
    struct Event
    {
        QByteArrayView raw;  // the event's bytes including its blank-line terminator
        QByteArray name;     // "event:" field, empty for the default "message"
        QByteArray data;     // "data:" lines joined with '\n'
    };
    using Sink = std::function<void(const Event &)>;

    void feed(QByteArrayView bytes, const Sink &sink);
    // Bytes of an event the stream ended in the middle of.
    QByteArray takeRemainder();

private:
    static Event parse(QByteArrayView raw);
    QByteArray m_buffer;
};

}  // namespace sluice
