#include "HttpResponder.h"

#include "ServerConnection.h"

namespace sluice {

bool HttpResponder::isOpen() const
{
    return m_slot->connection && m_slot->state != ResponseSlot::State::Done;
}

void HttpResponder::send(HttpResponse response)
{
    if (m_slot->state != ResponseSlot::State::Waiting)
        return;
    if (!m_slot->connection) {
        m_slot->state = ResponseSlot::State::Done;
        return;
    }
    m_slot->connection->sendResponse(*m_slot, response);
}

void HttpResponder::send(int status, QByteArray contentType, QByteArray body)
{
    HttpResponse r;
    r.status = status;
    r.headers.add(QByteArrayLiteral("Content-Type"), std::move(contentType));
    r.body = std::move(body);
    send(std::move(r));
}

void HttpResponder::beginStream(int status, HttpHeaders headers)
{
    if (m_slot->state != ResponseSlot::State::Waiting)
        return;
    if (!m_slot->connection) {
        m_slot->state = ResponseSlot::State::Done;
        return;
    }
    m_slot->connection->beginStream(*m_slot, status, headers);
}

void HttpResponder::write(QByteArrayView data)
{
    if (m_slot->state == ResponseSlot::State::Streaming && m_slot->connection && !data.isEmpty())
        m_slot->connection->streamData(*m_slot, data);
}

void HttpResponder::end()
{
    if (m_slot->state != ResponseSlot::State::Streaming)
        return;
    if (!m_slot->connection) {
        m_slot->state = ResponseSlot::State::Done;
        return;
    }
    m_slot->connection->endStream(*m_slot);
}

void HttpResponder::abort()
{
    if (m_slot->connection && m_slot->state != ResponseSlot::State::Done)
        m_slot->connection->abortFrom(*m_slot);
}

void HttpResponder::setPrincipal(QByteArray userId, QByteArray keyId)
{
    m_slot->userId = std::move(userId);
    m_slot->keyId = std::move(keyId);
}

void HttpResponder::onAbort(std::function<void()> callback)
{
    m_slot->onAbort = std::move(callback);
}

}  // namespace sluice
