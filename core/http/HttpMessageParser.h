#pragma once

#include "HttpMessage.h"

#include <QByteArrayView>
#include <memory>

namespace sluice {

// Incremental HTTP/1.x parser on libhttp-parser 2.9, for requests (server side) and responses
// (upstream client side). It enforces the header-size and body-size limits itself, counting
// header bytes in the data callbacks because 2.9 resets its own counter before
// headers-complete. After each complete message it pauses, so the owner decides whether to
// parse the next pipelined message (and can stop reading while its queue is full).
class HttpMessageParser
{
public:
    enum class Kind
    {
        Request,
        Response
    };
    enum class Error
    {
        None,
        Malformed,
        HeadersTooLarge,
        BodyTooLarge
    };

    struct Limits
    {
        qsizetype maxHeaderBytes = 64 * 1024;
        qint64 maxBodyBytes = 10 * 1024 * 1024;  // < 0: unlimited (responses)
    };

    class Listener
    {
    public:
        virtual ~Listener() = default;
        // Headers are complete. Return false to declare "no body follows" (response to HEAD).
        virtual bool onHeadersComplete(HttpMessageHead &head) = 0;
        virtual void onBody(QByteArrayView chunk) = 0;
        virtual void onMessageComplete() = 0;
    };

    HttpMessageParser(Kind kind, Listener *listener, Limits limits);
    ~HttpMessageParser();
    HttpMessageParser(const HttpMessageParser &) = delete;
    HttpMessageParser &operator=(const HttpMessageParser &) = delete;

    // Parses as much of `data` as possible and returns the number of bytes consumed. It stops
    // early after a complete message (the rest belongs to the next one) or on an error.
    qsizetype feed(QByteArrayView data);
    // Tells a response parser that the connection closed: completes a close-delimited body.
    void feedEof();

    Error error() const { return m_error; }
    QByteArray errorDescription() const;
    // True between the first byte of a message and its completion.
    bool inMessage() const { return m_inMessage; }
    bool headersComplete() const { return m_headersComplete; }
    // Whether the connection may carry another message after the last complete one.
    bool lastKeepAlive() const { return m_lastKeepAlive; }
    // The head parsed so far (complete from headers-complete on, also when the body was then
    // refused as too large): the server names the route in its 413.
    const HttpMessageHead &head() const;
    // Resets to the initial state (a new upstream request on a kept-alive connection).
    void reset();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
    Error m_error = Error::None;
    bool m_inMessage = false;
    bool m_headersComplete = false;
    bool m_lastKeepAlive = true;
};

}  // namespace sluice
