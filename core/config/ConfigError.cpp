#include "ConfigError.h"

#include <QRegularExpression>

namespace sluice {

QString ConfigError::redactSecrets(const QString &text)
{
    static const QRegularExpression userInfo(
        QStringLiteral(R"(^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:)[^@]*@)"));
    static const QRegularExpression queryPassword(QStringLiteral(R"(([?&]password=)[^&#]*)"));
    QString s = text;
    s.replace(userInfo, QStringLiteral("\\1***@"));
    s.replace(queryPassword, QStringLiteral("\\1***"));
    return s;
}

QString ConfigError::message() const
{
    const QString shown = u'"' + redactSecrets(value) + u'"';
    // Where the key was found, e.g. `--listen (from command line)` or `listen in [server] of F`.
    const QString where = section.isEmpty()
                              ? QStringLiteral("%1 (from %2)").arg(key, source)
                              : QStringLiteral("%1 in [%2] of %3").arg(key, section, source);
    QString line;
    switch (kind) {
        case Kind::InvalidValue:
            line = QStringLiteral("invalid value %1 for %2").arg(shown, where);
            break;
        case Kind::UnknownFlag:
            line = QStringLiteral("unknown flag \"%1\" (from %2)").arg(key, source);
            break;
        case Kind::MissingValue:
            line = QStringLiteral("missing value for %1").arg(where);
            break;
        case Kind::UnknownKey:
            line =
                section.isEmpty()
                    ? QStringLiteral("unknown key \"%1\" outside any section of %2")
                          .arg(key, source)
                    : QStringLiteral("unknown key \"%1\" in [%2] of %3").arg(key, section, source);
            break;
        case Kind::UnknownSection:
            line = QStringLiteral("unknown section [%1] in %2").arg(key, source);
            break;
        case Kind::UnreadableFile:
            line = QStringLiteral("cannot read config file %1 given by %2 (from %3)")
                       .arg(shown, key, source);
            break;
    }
    if (!expected.isEmpty())
        line +=
            (kind == Kind::UnreadableFile ? QStringLiteral(": ") : QStringLiteral(": expected ")) +
            expected;
    // One line, whatever a value contained.
    line.replace(u'\n', u' ');
    line.replace(u'\r', u' ');
    return line;
}

}  // namespace sluice
