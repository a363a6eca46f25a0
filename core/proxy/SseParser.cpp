#include "SseParser.h"

namespace sluice {

void SseParser::feed(QByteArrayView bytes, const Sink &sink)
{
    m_buffer.append(bytes);
    qsizetype start = 0;
    for (;;) {
        // An event ends at the first empty line: "\n\n", or "\r\n\r\n" from CRLF servers.
        const qsizetype lf = m_buffer.indexOf("\n\n", start);
        const qsizetype crlf = m_buffer.indexOf("\r\n\r\n", start);
        qsizetype end = -1;
        if (lf >= 0 && (crlf < 0 || lf < crlf))
            end = lf + 2;
        else if (crlf >= 0)
            end = crlf + 4;
        if (end < 0)
            break;
        sink(parse(QByteArrayView(m_buffer).sliced(start, end - start)));
        start = end;
    }
    if (start > 0)
        m_buffer.remove(0, start);
}

QByteArray SseParser::takeRemainder()
{
    return std::exchange(m_buffer, QByteArray());
}

SseParser::Event SseParser::parse(QByteArrayView raw)
{
    Event e;
    e.raw = raw;
    qsizetype pos = 0;
    while (pos < raw.size()) {
        qsizetype nl = raw.indexOf('\n', pos);
        if (nl < 0)
            nl = raw.size();
        QByteArrayView line = raw.sliced(pos, nl - pos);
        if (line.endsWith('\r'))
            line.chop(1);
        pos = nl + 1;
        if (line.isEmpty() || line.startsWith(':'))
            continue;
        const qsizetype colon = line.indexOf(':');
        const QByteArrayView field = colon < 0 ? line : line.first(colon);
        QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
        if (value.startsWith(' '))
            value = value.sliced(1);
        if (field == "data") {
            if (!e.data.isNull())
                e.data += '\n';
            e.data += value;
            if (e.data.isNull())
                e.data = QByteArray("");
        } else if (field == "event") {
            e.name = value.toByteArray();
        }
    }
    return e;
}

}  // namespace sluice
