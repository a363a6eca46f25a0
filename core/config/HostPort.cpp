#include "HostPort.h"

#include <QRegularExpression>

namespace sluice {

namespace {

const char kPortForm[] = "HOST:PORT with a port 0-65535";
const char kForm[] =
    "HOST:PORT or [IPv6]:PORT, HOST being an IP address, localhost or *, with a port 0-65535";

// Dotted quad only: QHostAddress also takes "127.1" and reads "010" as octal.
bool isDottedQuad(const QString &s)
{
    static const QRegularExpression re(QStringLiteral(
        R"(^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$)"));
    return re.match(s).hasMatch();
}

}  // namespace

std::optional<HostPort> HostPort::parse(const QString &text, QString *expected)
{
    auto fail = [expected](const QString &why) -> std::optional<HostPort> {
        if (expected)
            *expected = why;
        return std::nullopt;
    };
    const QString s = text.trimmed();
    QString hostText;
    QString portText;
    bool bracketed = false;
    if (s.startsWith(u'[')) {
        const qsizetype close = s.indexOf(u']');
        if (close < 0 || close + 1 >= s.size() || s.at(close + 1) != u':')
            return fail(QLatin1String(kForm));
        hostText = s.mid(1, close - 1);
        portText = s.mid(close + 2);
        bracketed = true;
    } else {
        const qsizetype colon = s.lastIndexOf(u':');
        static const QRegularExpression digitsOnly(QStringLiteral(R"(^\d+$)"));
        if (colon < 0 && digitsOnly.match(s).hasMatch())
            return fail(QLatin1String(kPortForm));  // "8081" alone: the host is missing
        if (colon < 0)
            return fail(QLatin1String(kForm));
        hostText = s.left(colon);
        portText = s.mid(colon + 1);
        if (hostText.contains(u':'))
            return fail(QStringLiteral("[IPv6]:PORT (an IPv6 address needs brackets)"));
    }

    HostPort hp;
    if (bracketed) {
        QHostAddress addr;
        if (!addr.setAddress(hostText) || addr.protocol() != QAbstractSocket::IPv6Protocol)
            return fail(QLatin1String(kForm));
        hp.host = addr.toString();
    } else if (hostText.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0) {
        hp.host = QStringLiteral("127.0.0.1");
    } else if (hostText == QLatin1String("*")) {
        hp.host = QStringLiteral("0.0.0.0");
    } else if (isDottedQuad(hostText)) {
        hp.host = QHostAddress(hostText).toString();
    } else {
        return fail(QLatin1String(kForm));
    }

    static const QRegularExpression digits(QStringLiteral(R"(^\d{1,5}$)"));
    if (!digits.match(portText).hasMatch() || portText.toInt() > 65535)
        return fail(QLatin1String(kPortForm));
    hp.port = quint16(portText.toInt());
    return hp;
}

QString HostPort::toString() const
{
    const QString h = host.contains(u':') ? u'[' + host + u']' : host;
    return h + u':' + QString::number(port);
}

}  // namespace sluice
