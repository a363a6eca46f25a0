#pragma once

#include "DashboardSource.h"

#include <QByteArray>
#include <QNetworkAccessManager>
#include <QSet>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QUrl>
#include <QUrlQuery>
#include <functional>

class QNetworkReply;

namespace sluice {

// The dashboard over a remote gateway's admin API (`sluice --connect URL --admin-token T`):
// every call is one or more HTTP requests to /admin/v1 with the bearer token, answered on the
// GUI thread when the reply arrives (QNetworkAccessManager is asynchronous). A read that is
// still in flight is not sent again, so a slow gateway does not pile up the dashboard's polls.
// Network errors, timeouts, 401 and 503 are reported by connectionChanged(false, message);
// the next successful call reports connectionChanged(true, {}). The token is never logged.
class RemoteDashboardSource : public DashboardSource
{
    Q_OBJECT
public:
    // `adminUrl`: http(s)://HOST:PORT of the admin listener (a path, if any, is kept as a
    // prefix in front of /admin/v1).
    RemoteDashboardSource(const QUrl &adminUrl, const QByteArray &token, QObject *parent = nullptr);
    ~RemoteDashboardSource() override;

    // Certificates trusted for an https admin URL besides the system's CAs (--admin-ca): a
    // self-signed certificate or a private CA. Host names are still verified.
    void trustCertificates(const QList<QSslCertificate> &certificates);
    // Longest a request may go without progress before it is abandoned (default 10 s).
    void setTimeout(int ms) { m_timeoutMs = ms; }
    QUrl adminUrl() const { return m_base; }

    // From the overview's "listen" (the client API's address as the server sees it): empty
    // until the first overview arrived. A wildcard listen address (0.0.0.0, ::) is replaced by
    // the host of the admin URL.
    QString gatewayBaseUrl() const override { return m_gatewayBaseUrl; }
    bool isRemote() const override { return true; }

    void requestOverview() override;
    void requestSeries(int seconds) override;
    void requestTraffic(int limit) override;
    void requestHealth() override;
    void checkHealthNow() override;
    void setPaused(bool paused) override;
    void requestKeys() override;
    void requestLimitEvents(int limit) override;
    void submit(int ticket, const sluice::DashboardEdit &edit) override;

private:
    // One answer of the admin API. `status` 0: no HTTP answer (see `error`).
    struct Answer
    {
        int status = 0;
        QJsonObject json;
        QString error;  // empty on 2xx; else the admin API's error message or the network error
        bool ok() const { return status >= 200 && status < 300; }
    };
    using Handler = std::function<void(const Answer &)>;

    // Sends one request. `dedupe`: skipped when the same request is already in flight.
    void call(const QByteArray &verb, const QString &path, const QUrlQuery &query,
              const QJsonObject *body, bool dedupe, Handler handler);
    // GETs `path` page after page (limit=1000, after=next_after), appending every row to
    // `into`; `done` gets the last answer (or the first failed one).
    void fetchPages(const QString &path, QJsonArray *into, qint64 after, const Handler &done);
    Answer answerOf(QNetworkReply *reply) const;
    // Connection state from an answer: failures of the transport or the token are reported,
    // a success after them clears the report.
    void track(const Answer &answer);
    void setGatewayBaseUrl(const QString &listen);
    void noteAlerts(const QJsonArray &alerts);

    QNetworkAccessManager m_network;
    // The default configuration, plus trustCertificates()' CAs; used by every request.
    QSslConfiguration m_tls = QSslConfiguration::defaultConfiguration();
    QUrl m_base;
    QByteArray m_authorization;
    int m_timeoutMs = 10000;
    QString m_gatewayBaseUrl;
    QSet<QString> m_inFlight;
    enum class State
    {
        Unknown,
        Up,
        Down
    };
    State m_state = State::Unknown;
    QString m_downMessage;
    bool m_keysPending = false;
    QString m_keysError;  // last one logged
    bool m_eventsPending = false;
    bool m_alertsSeen = false;  // the first poll only records the newest alert
    qint64 m_lastAlertId = 0;
};

}  // namespace sluice
