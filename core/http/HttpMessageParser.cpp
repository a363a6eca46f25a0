#include "HttpMessageParser.h"

#include <http_parser.h>

namespace sluice {

struct HttpMessageParser::Impl
{
    HttpMessageParser *q = nullptr;
    Kind kind;
    Listener *listener = nullptr;
    Limits limits;
    http_parser parser{};
    http_parser_settings settings{};
    HttpMessageHead head;
    QByteArray field;
    QByteArray value;
    bool lastWasValue = false;
    qsizetype headerBytes = 0;
    qint64 bodyBytes = 0;

    void init()
    {
        http_parser_init(&parser, kind == Kind::Request ? HTTP_REQUEST : HTTP_RESPONSE);
        parser.data = this;
    }

    static Impl *self(http_parser *p) { return static_cast<Impl *>(p->data); }

    // Returns false (abort) when the head grew past the limit.
    bool countHeader(size_t len)
    {
        headerBytes += qsizetype(len);
        if (headerBytes > limits.maxHeaderBytes) {
            q->m_error = Error::HeadersTooLarge;
            return false;
        }
        return true;
    }

    void flushField()
    {
        if (!field.isEmpty()) {
            head.headers.add(std::move(field), value.trimmed());
            field = QByteArray();
            value = QByteArray();
        }
    }

    static int onMessageBegin(http_parser *p)
    {
        Impl *d = self(p);
        d->head = HttpMessageHead();
        d->head.headers.reserve(16);
        d->field.clear();
        d->value.clear();
        d->lastWasValue = false;
        d->headerBytes = 0;
        d->bodyBytes = 0;
        d->q->m_inMessage = true;
        d->q->m_headersComplete = false;
        return 0;
    }
    static int onUrl(http_parser *p, const char *at, size_t len)
    {
        Impl *d = self(p);
        if (!d->countHeader(len))
            return -1;
        d->head.target.append(at, qsizetype(len));
        return 0;
    }
    static int onStatus(http_parser *p, const char *, size_t len)
    {
        return self(p)->countHeader(len) ? 0 : -1;
    }
    static int onHeaderField(http_parser *p, const char *at, size_t len)
    {
        Impl *d = self(p);
        if (!d->countHeader(len + 4))  // ": " and CRLF count against the limit too
            return -1;
        if (d->lastWasValue) {
            d->flushField();
            d->lastWasValue = false;
        }
        d->field.append(at, qsizetype(len));
        return 0;
    }
    static int onHeaderValue(http_parser *p, const char *at, size_t len)
    {
        Impl *d = self(p);
        if (!d->countHeader(len))
            return -1;
        d->lastWasValue = true;
        d->value.append(at, qsizetype(len));
        return 0;
    }
    static int onHeadersComplete(http_parser *p)
    {
        Impl *d = self(p);
        d->flushField();
        HttpMessageHead &h = d->head;
        if (d->kind == Kind::Request)
            h.method = http_method_str(static_cast<http_method>(p->method));
        else
            h.status = int(p->status_code);
        h.versionMajor = p->http_major;
        h.versionMinor = p->http_minor;
        h.keepAlive = http_should_keep_alive(p) != 0;
        h.chunked = (p->flags & F_CHUNKED) != 0;
        h.contentLength = (p->flags & F_CONTENTLENGTH) ? qint64(p->content_length) : -1;
        if (d->limits.maxBodyBytes >= 0 && h.contentLength > d->limits.maxBodyBytes) {
            d->q->m_error = Error::BodyTooLarge;
            return -1;  // any value but 0, 1, 2 aborts the parse
        }
        d->q->m_headersComplete = true;
        const bool expectBody = d->listener->onHeadersComplete(h);
        return expectBody ? 0 : 1;
    }
    static int onBody(http_parser *p, const char *at, size_t len)
    {
        Impl *d = self(p);
        d->bodyBytes += qint64(len);
        if (d->limits.maxBodyBytes >= 0 && d->bodyBytes > d->limits.maxBodyBytes) {
            d->q->m_error = Error::BodyTooLarge;
            return -1;
        }
        d->listener->onBody(QByteArrayView(at, qsizetype(len)));
        return 0;
    }
    static int onMessageComplete(http_parser *p)
    {
        Impl *d = self(p);
        d->q->m_inMessage = false;
        d->q->m_lastKeepAlive = http_should_keep_alive(p) != 0;
        d->listener->onMessageComplete();
        // Stop here: the owner decides when the next pipelined message may be parsed.
        http_parser_pause(p, 1);
        return 0;
    }
};

HttpMessageParser::HttpMessageParser(Kind kind, Listener *listener, Limits limits)
    : d(std::make_unique<Impl>())
{
    d->q = this;
    d->kind = kind;
    d->listener = listener;
    d->limits = limits;
    d->settings.on_message_begin = &Impl::onMessageBegin;
    d->settings.on_url = &Impl::onUrl;
    d->settings.on_status = &Impl::onStatus;
    d->settings.on_header_field = &Impl::onHeaderField;
    d->settings.on_header_value = &Impl::onHeaderValue;
    d->settings.on_headers_complete = &Impl::onHeadersComplete;
    d->settings.on_body = &Impl::onBody;
    d->settings.on_message_complete = &Impl::onMessageComplete;
    d->init();
}

HttpMessageParser::~HttpMessageParser() = default;

const HttpMessageHead &HttpMessageParser::head() const
{
    return d->head;
}

void HttpMessageParser::reset()
{
    d->init();
    m_error = Error::None;
    m_inMessage = false;
    m_headersComplete = false;
    m_lastKeepAlive = true;
}

qsizetype HttpMessageParser::feed(QByteArrayView data)
{
    if (m_error != Error::None || data.isEmpty())
        return 0;
    if (HTTP_PARSER_ERRNO(&d->parser) == HPE_PAUSED)
        http_parser_pause(&d->parser, 0);
    const size_t n =
        http_parser_execute(&d->parser, &d->settings, data.data(), size_t(data.size()));
    const auto err = HTTP_PARSER_ERRNO(&d->parser);
    if (err == HPE_PAUSED)
        return qsizetype(n);  // paused in on_message_complete: n counts this message's bytes
    if (err != HPE_OK && m_error == Error::None)
        m_error = (err == HPE_HEADER_OVERFLOW) ? Error::HeadersTooLarge : Error::Malformed;
    return qsizetype(n);
}

void HttpMessageParser::feedEof()
{
    if (m_error != Error::None)
        return;
    if (HTTP_PARSER_ERRNO(&d->parser) == HPE_PAUSED)
        http_parser_pause(&d->parser, 0);
    http_parser_execute(&d->parser, &d->settings, nullptr, 0);
    const auto err = HTTP_PARSER_ERRNO(&d->parser);
    if (err != HPE_OK && err != HPE_PAUSED)
        m_error = Error::Malformed;
}

QByteArray HttpMessageParser::errorDescription() const
{
    switch (m_error) {
        case Error::None:
            return {};
        case Error::HeadersTooLarge:
            return QByteArrayLiteral("request header fields too large");
        case Error::BodyTooLarge:
            return QByteArrayLiteral("body too large");
        case Error::Malformed:
            break;
    }
    return QByteArray(http_errno_description(HTTP_PARSER_ERRNO(&d->parser)));
}

}  // namespace sluice
