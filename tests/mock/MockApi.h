#pragma once

// What the mock LLM upstream answers to one API request: pure functions of the request, so the
// answer (text, chunking, token counts) is deterministic and the tests can compute it too.
// The rules are written down in tests/mock/README.md.

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <utility>

namespace sluice::mock {

using HeaderList = QList<std::pair<QByteArray, QByteArray>>;

struct MockRequest
{
    QByteArray method;
    QByteArray target;   // as received, query included
    QByteArray path;     // without the query
    QByteArray version;  // "HTTP/1.1"
    HeaderList headers;  // as received: order, case and duplicates kept
    QByteArray body;

    // The first header of that name (case-insensitive); a null QByteArray when absent.
    QByteArray header(QByteArrayView name) const;
};

struct MockAnswer
{
    enum class Mode
    {
        Answer,  // write the head after delayMs, then the body or the events
        Hang,    // never answer
        Drop,    // reset the connection without a byte of answer
    };
    Mode mode = Mode::Answer;
    int status = 200;
    HeaderList headers;   // without framing headers (Content-Length, Transfer-Encoding, Connection)
    bool stream = false;  // events, one HTTP chunk each; otherwise body with a Content-Length
    QByteArray body;
    QList<QByteArray> events;
    int delayMs = 0;              // before the head
    int chunkDelayMs = 0;         // between two events
    qint64 resetAfterBytes = -1;  // reset the connection after this many body bytes (wire)
    bool close = false;           // close the connection after the answer
};

// The answer to an API request (anything but /mock/*). `seq` numbers the ids it hands out.
// With `apiKeys`, a request without one of them (Authorization: Bearer for the OpenAI routes,
// x-api-key for Anthropic's) is answered 401 in its API's error shape.
MockAnswer planAnswer(const MockRequest &request, quint64 seq,
                      const QList<QByteArray> &apiKeys = {});

// The reply text before it is cut into `chunks` pieces, and the pieces themselves.
QString replyText(const QString &base, int chunks);
QStringList replyPieces(const QString &base, int chunks);

// Prompt tokens of a request body: max(1, characters of its text fields / 4); see README.md.
int promptTokens(QByteArrayView path, const QByteArray &body);

}  // namespace sluice::mock
