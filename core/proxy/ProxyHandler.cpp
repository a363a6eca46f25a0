#include "ProxyHandler.h"

#include "ModelGlob.h"
#include "ProxyExchange.h"
#include "ProxyMetrics.h"

namespace sluice {

ProxyHandler::ProxyHandler(QList<UpstreamConfig> upstreams, ProxyMetrics &metrics,
                           UsageLedger *ledger, UpstreamTraffic *traffic, Options options)
    : m_upstreams(std::move(upstreams)),
      m_metrics(metrics),
      m_ledger(ledger),
      m_traffic(traffic),
      m_options(options),
      m_guard(std::make_unique<UpstreamGuard>(m_upstreams, metrics.upstreamThrottled))
{}

ProxyHandler::~ProxyHandler() = default;

void ProxyHandler::setLimiter(Limiter *limiter)
{
    m_limiter = limiter;
    m_guard->setLimiter(limiter);
}

QList<const UpstreamConfig *> ProxyHandler::candidates(bool anthropic, const QString &model) const
{
    QList<const UpstreamConfig *> out;
    for (const UpstreamConfig &u : m_upstreams) {
        if (u.isAnthropic() != anthropic)
            continue;
        if (model.isEmpty() || ModelGlob::matchesAny(u.models, model))
            out << &u;
    }
    return out;  // m_upstreams is sorted by priority already
}

void ProxyHandler::forward(HttpResponder responder, const Principal &principal) const
{
    std::make_shared<ProxyExchange>(*this, std::move(responder), principal)->start(false);
}

void ProxyHandler::listModels(HttpResponder responder, const Principal &principal) const
{
    std::make_shared<ProxyExchange>(*this, std::move(responder), principal)->start(true);
}

}  // namespace sluice
