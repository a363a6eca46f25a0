// What a limiter decision looks like to clients: X-RateLimit-*, the IETF RateLimit fields,
// OpenAI's and Anthropic's own headers, the 429 answer (Retry-After, bodies in each API's
// error shape), which limit the single-valued headers describe; and the [cost] table.
#include "CostTable.h"
#include "LimitDecision.h"
#include "MemoryLimitStore.h"
#include "RateLimitHeaders.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace sluice;

namespace {

constexpr qint64 kSecond = 1'000'000;
// 2024-03-14T15:09:26.535897Z
constexpr qint64 kNow = 1'710'428'966'535'897;
constexpr qint64 kToNextMinute = 33'464'103;               // to 15:10:00Z
constexpr qint64 kToApril = 1'711'929'600'000'000 - kNow;  // to 2024-04-01T00:00:00Z

LimitRule makeRule(const QByteArray &name, LimitKind kind, double limit, double burst = 0,
                   LimitScope scope = LimitScope::Key)
{
    LimitRule r;
    r.key = "{x}:" + name;
    r.name = name;
    r.scope = scope;
    r.kind = kind;
    r.limit = limit;
    r.burst = burst;
    return r;
}

struct Builder
{
    LimitDecision d;

    Builder() { d.nowUs = kNow; }
    Builder &allowed(const LimitRule &rule, double remaining, qint64 resetUs)
    {
        return add(rule, true, remaining, resetUs, 0, false);
    }
    Builder &denied(const LimitRule &rule, double remaining, qint64 resetUs, qint64 retryAfterUs,
                    bool neverFits = false)
    {
        add(rule, false, remaining, resetUs, retryAfterUs, neverFits);
        d.allowed = false;
        d.denied = int(d.statuses.size()) - 1;
        return *this;
    }
    Builder &add(const LimitRule &rule, bool ok, double remaining, qint64 resetUs,
                 qint64 retryAfterUs, bool neverFits)
    {
        LimitStatus st;
        st.rule = int(d.rules.size());
        st.allowed = ok;
        st.remaining = remaining;
        st.resetUs = resetUs;
        st.retryAfterUs = retryAfterUs;
        st.neverFits = neverFits;
        d.rules.push_back(rule);
        d.statuses.push_back(st);
        return *this;
    }
};

int countOf(const HttpHeaders &h, QByteArrayView name)
{
    int n = 0;
    for (const HttpHeaders::Field &f : h.fields())
        n += HttpHeaders::nameEquals(f.first, name);
    return n;
}

// A structured-field list of items with parameters: "a";q=1;w=2, "b";r=3 -> name -> params.
QList<std::pair<QByteArray, QMap<QByteArray, QByteArray>>> parseItems(const QByteArray &value)
{
    QList<std::pair<QByteArray, QMap<QByteArray, QByteArray>>> out;
    for (const QByteArray &item : value.split(',')) {
        const QList<QByteArray> parts = item.trimmed().split(';');
        QByteArray name = parts.value(0);
        if (name.size() >= 2 && name.startsWith('"') && name.endsWith('"'))
            name = name.mid(1, name.size() - 2);
        else
            name = "<not an sf-string: " + name + ">";
        QMap<QByteArray, QByteArray> params;
        for (qsizetype i = 1; i < parts.size(); ++i) {
            const qsizetype eq = parts[i].indexOf('=');
            params.insert(parts[i].left(eq), parts[i].mid(eq + 1));
        }
        out.append({name, params});
    }
    return out;
}

QJsonObject bodyOf(const HttpResponse &r)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(r.body, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        qWarning("not a JSON object (%s): %s", qPrintable(error.errorString()), r.body.constData());
        return {};
    }
    return doc.object();
}

// Three request limits at different distances from exhaustion, plus two token limits.
Builder typical(bool withTokens)
{
    Builder b;
    b.allowed(makeRule("key-rps", LimitKind::RequestRate, 10, 20), 14, 600'000);          // 70 %
    b.allowed(makeRule("key-rpm", LimitKind::RequestsPerMinute, 60), 12, kToNextMinute);  // 20 %
    b.allowed(
        makeRule("user-monthly-requests", LimitKind::MonthlyRequests, 1000, 0, LimitScope::User),
        900, kToApril);  // 90 %
    if (withTokens) {
        b.allowed(makeRule("key-tpm", LimitKind::TokensPerMinute, 10'000), 2500, kToNextMinute);
        b.allowed(makeRule("user-monthly-tokens", LimitKind::MonthlyTokens, 1'000'000, 0,
                           LimitScope::User),
                  1000, kToApril);  // 0.1 %
    }
    return b;
}

}  // namespace

class TestRateLimitHeaders : public QObject
{
    Q_OBJECT

private slots:
    void openAiDuration_data();
    void openAiDuration();
    void rateLimitHeaderNames_data();
    void rateLimitHeaderNames();

    void closestRule();
    void closestOfKind();

    void applyReplacesUpstreamHeaders();
    void applyDescribesTheClosestLimit();
    void applyTiesGoToTheLongerReset();
    void applyResetIsEpochSecondsRoundedUp();
    void applyPolicyListsEveryRule();
    void applyQuotaHeaders();
    void applyOpenAiHeaders();
    void applyAnthropicHeaders();
    void applyTokenHeadersOnlyWithATokenRule();
    void applyWithoutRules();

    void denialOpenAiRequests();
    void denialRetryAfterRounding_data();
    void denialRetryAfterRounding();
    void denialShouldRetry_data();
    void denialShouldRetry();
    void denialOpenAiTokens();
    void denialMonthlyQuota();
    void denialTooLarge();
    void denialAnthropic();
    void denialBodyIsValidJsonWhateverTheTier();
    void denialFromTheMemoryStore();

    void costRouteNames();
    void costFromIni();
    void costFromIniErrors_data();
    void costFromIniErrors();
};

// ---- Durations and names ----------------------------------------------------------------------

void TestRateLimitHeaders::openAiDuration_data()
{
    QTest::addColumn<qint64>("us");
    QTest::addColumn<QByteArray>("text");

    QTest::newRow("zero") << qint64(0) << QByteArray("0s");
    QTest::newRow("negative") << qint64(-5) << QByteArray("0s");
    QTest::newRow("1 µs") << qint64(1) << QByteArray("1ms");
    QTest::newRow("1 ms") << qint64(1000) << QByteArray("1ms");
    QTest::newRow("1.001 ms") << qint64(1001) << QByteArray("2ms");
    QTest::newRow("20 ms") << qint64(20'000) << QByteArray("20ms");
    QTest::newRow("999 ms") << qint64(999'000) << QByteArray("999ms");
    QTest::newRow("999.001 ms") << qint64(999'001) << QByteArray("1s");
    QTest::newRow("1 s") << qint64(1'000'000) << QByteArray("1s");
    QTest::newRow("1 s + 1 µs") << qint64(1'000'001) << QByteArray("1.001s");
    QTest::newRow("1.5 s") << qint64(1'500'000) << QByteArray("1.5s");
    QTest::newRow("1.25 s") << qint64(1'250'000) << QByteArray("1.25s");
    QTest::newRow("59.999 s") << qint64(59'999'000) << QByteArray("59.999s");
    QTest::newRow("60 s") << qint64(60'000'000) << QByteArray("1m0s");
    QTest::newRow("61.5 s") << qint64(61'500'000) << QByteArray("1m1.5s");
    QTest::newRow("6 min") << qint64(360'000'000) << QByteArray("6m0s");
    QTest::newRow("1h2m3s") << qint64(3'723'000'000) << QByteArray("1h2m3s");
    QTest::newRow("1 h") << qint64(3'600'000'000) << QByteArray("1h0m0s");
    QTest::newRow("1 h 0.5 s") << qint64(3'600'500'000) << QByteArray("1h0m0.5s");
    QTest::newRow("25 h") << qint64(90'000'000'000) << QByteArray("25h0m0s");
}

void TestRateLimitHeaders::openAiDuration()
{
    QFETCH(qint64, us);
    QFETCH(QByteArray, text);
    QCOMPARE(RateLimitHeaders::openAiDuration(us), text);
}

void TestRateLimitHeaders::rateLimitHeaderNames_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<bool>("ours");

    for (const char *n :
         {"X-RateLimit-Limit", "x-ratelimit-remaining-requests", "X-RATELIMIT-RESET-TOKENS",
          "anthropic-ratelimit-tokens-reset", "Anthropic-RateLimit-Requests-Limit", "RateLimit",
          "ratelimit-policy", "RateLimit-Remaining", "X-Quota-Tier", "x-quota-monthly-remaining",
          "Retry-After", "retry-after-ms", "X-Should-Retry"})
        QTest::newRow(n) << QByteArray(n) << true;
    for (const char *n :
         {"Content-Type", "X-Request-Id", "openai-processing-ms", "anthropic-organization-id",
          "x-ratelimit", "retry-after-seconds", "request-id", "x-quota"})
        QTest::newRow(n) << QByteArray(n) << false;
}

void TestRateLimitHeaders::rateLimitHeaderNames()
{
    QFETCH(QByteArray, name);
    QFETCH(bool, ours);
    QCOMPARE(RateLimitHeaders::isRateLimitHeader(name), ours);
}

// ---- Which limit the single-valued headers describe -------------------------------------------

void TestRateLimitHeaders::closestRule()
{
    QCOMPARE(LimitDecision().closest(), -1);
    QCOMPARE(LimitDecision().closestOf(true), -1);
    QCOMPARE(LimitDecision().retryAfterUs(), 0);

    // The lowest share remaining: 12 of 60 beats 14 of 20 (the rate's quota is its burst).
    QCOMPARE(typical(false).d.closest(), 1);
    QCOMPARE(typical(true).d.closest(), 4);  // 1000 of a million tokens

    // A denial is named whatever the shares of the others.
    Builder b = typical(true);
    b.denied(makeRule("key-rps2", LimitKind::RequestRate, 1000, 1000), 999, 1000, 1000);
    QCOMPARE(b.d.closest(), 5);
    QCOMPARE(b.d.retryAfterUs(), 1000);
}

void TestRateLimitHeaders::closestOfKind()
{
    Builder b = typical(true);
    QCOMPARE(b.d.closestOf(false), 1);
    QCOMPARE(b.d.closestOf(true), 4);
    QCOMPARE(typical(false).d.closestOf(true), -1);

    // A denying request rule is the request rule named; the token side keeps its closest.
    b.denied(makeRule("user-rpm", LimitKind::RequestsPerMinute, 100), 50, 1, 1);
    QCOMPARE(b.d.closestOf(false), 5);
    QCOMPARE(b.d.closestOf(true), 4);
    // A denying token rule likewise.
    Builder t = typical(true);
    t.denied(makeRule("user-tpm", LimitKind::TokensPerMinute, 100'000), 90'000, 1, 1);
    QCOMPARE(t.d.closestOf(true), 5);
    QCOMPARE(t.d.closestOf(false), 1);
}

// ---- apply() ----------------------------------------------------------------------------------

void TestRateLimitHeaders::applyReplacesUpstreamHeaders()
{
    HttpHeaders h;
    h.add("Content-Type", "application/json");
    h.add("x-ratelimit-limit-requests", "10000");  // the operator's provider quota
    h.add("x-ratelimit-remaining-requests", "9999");
    h.add("X-RateLimit-Remaining-Tokens", "1999000");
    h.add("anthropic-ratelimit-requests-remaining", "49");
    h.add("openai-processing-ms", "321");
    h.add("RateLimit", "\"upstream\";r=1;t=1");
    h.add("RateLimit-Policy", "\"upstream\";q=5;w=1");
    h.add("Retry-After", "30");
    h.add("retry-after-ms", "30000");
    h.add("x-should-retry", "true");
    h.add("X-Quota-Tier", "enterprise");
    h.add("X-Request-Id", "abc");

    RateLimitHeaders::apply(h, typical(false).d, ApiFamily::OpenAI, "gold");

    QCOMPARE(h.fields()[0], HttpHeaders::Field("Content-Type", "application/json"));
    QCOMPARE(h.fields()[1], HttpHeaders::Field("openai-processing-ms", "321"));
    QCOMPARE(h.fields()[2], HttpHeaders::Field("X-Request-Id", "abc"));
    for (const char *gone :
         {"Retry-After", "retry-after-ms", "x-should-retry", "x-ratelimit-remaining-tokens",
          "anthropic-ratelimit-requests-remaining"})
        QVERIFY2(!h.contains(gone), gone);
    for (const char *once :
         {"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "RateLimit",
          "RateLimit-Policy", "X-Quota-Tier", "X-RateLimit-Limit", "X-RateLimit-Remaining"})
        QCOMPARE(countOf(h, once), 1);
    QCOMPARE(h.value("x-ratelimit-limit-requests"), QByteArray("60"));
    QCOMPARE(h.value("x-ratelimit-remaining-requests"), QByteArray("12"));
    QCOMPARE(h.value("X-Quota-Tier"), QByteArray("gold"));

    // Removing works on any headers, leaving the others in order.
    HttpHeaders other;
    other.add("RATELIMIT-RESET", "5");
    other.add("Server", "x");
    other.add("x-quota-anything", "1");
    RateLimitHeaders::removeRateLimitHeaders(other);
    QCOMPARE(other.fields().size(), size_t(1));
    QCOMPARE(other.value("Server"), QByteArray("x"));
}

void TestRateLimitHeaders::applyDescribesTheClosestLimit()
{
    HttpHeaders h;
    RateLimitHeaders::apply(h, typical(false).d, ApiFamily::OpenAI, {});
    QCOMPARE(h.value("X-RateLimit-Limit"), QByteArray("60"));
    QCOMPARE(h.value("X-RateLimit-Remaining"), QByteArray("12"));
    QCOMPARE(h.value("X-RateLimit-Reset"), QByteArray("1710429000"));  // 15:10:00Z
    QCOMPARE(h.value("X-RateLimit-Type"), QByteArray("key"));
    const auto rl = parseItems(h.value("RateLimit"));
    QCOMPARE(rl.size(), 1);
    QCOMPARE(rl[0].first, QByteArray("key-rpm"));
    QCOMPARE(rl[0].second.value("r"), QByteArray("12"));
    QCOMPARE(rl[0].second.value("t"), QByteArray("34"));  // 33.46 s, rounded up
    QVERIFY(!h.contains("X-Quota-Tier"));                 // no tier, no header

    // With tokens the closest overall is the monthly token quota.
    HttpHeaders t;
    RateLimitHeaders::apply(t, typical(true).d, ApiFamily::OpenAI, {});
    QCOMPARE(t.value("X-RateLimit-Type"), QByteArray("monthly"));
    QCOMPARE(t.value("X-RateLimit-Limit"), QByteArray("1000000"));
    QCOMPARE(t.value("X-RateLimit-Remaining"), QByteArray("1000"));
    QCOMPARE(t.value("X-RateLimit-Reset"), QByteArray("1711929600"));
    QCOMPARE(parseItems(t.value("RateLimit"))[0].first, QByteArray("user-monthly-tokens"));

    // Token per minute: X-RateLimit-Type says "tokens"; fractions are floored.
    Builder b;
    b.allowed(makeRule("user-tpm", LimitKind::TokensPerMinute, 1000, 0, LimitScope::User), 0.9,
              kSecond);
    b.allowed(makeRule("user-rps", LimitKind::RequestRate, 2.5, 0, LimitScope::User), 0.5, kSecond);
    HttpHeaders f;
    RateLimitHeaders::apply(f, b.d, ApiFamily::OpenAI, {});
    QCOMPARE(f.value("X-RateLimit-Type"), QByteArray("tokens"));
    QCOMPARE(f.value("X-RateLimit-Remaining"), QByteArray("0"));
    QCOMPARE(f.value("x-ratelimit-limit-requests"), QByteArray("1"));  // burst below 1 is 1
    QCOMPARE(f.value("x-ratelimit-remaining-requests"), QByteArray("0"));
}

void TestRateLimitHeaders::applyTiesGoToTheLongerReset()
{
    Builder b;
    b.allowed(makeRule("key-rpm", LimitKind::RequestsPerMinute, 100), 50, 10 * kSecond);
    b.allowed(makeRule("user-rpm", LimitKind::RequestsPerMinute, 10, 0, LimitScope::User), 5,
              20 * kSecond);
    b.allowed(makeRule("ip-rpm", LimitKind::RequestsPerMinute, 1000, 0, LimitScope::Ip), 500,
              15 * kSecond);
    HttpHeaders h;
    RateLimitHeaders::apply(h, b.d, ApiFamily::OpenAI, {});
    QCOMPARE(h.value("X-RateLimit-Type"), QByteArray("user"));
    QCOMPARE(h.value("X-RateLimit-Limit"), QByteArray("10"));
    QCOMPARE(parseItems(h.value("RateLimit"))[0].first, QByteArray("user-rpm"));
}

void TestRateLimitHeaders::applyResetIsEpochSecondsRoundedUp()
{
    const auto resetOf = [](qint64 resetUs) {
        Builder b;
        b.allowed(makeRule("key-rpm", LimitKind::RequestsPerMinute, 10), 1, resetUs);
        HttpHeaders h;
        RateLimitHeaders::apply(h, b.d, ApiFamily::OpenAI, {});
        return std::make_pair(h.value("X-RateLimit-Reset"),
                              parseItems(h.value("RateLimit"))[0].second.value("t"));
    };
    // kNow is 1710428966.535897 s.
    QCOMPARE(resetOf(0), std::make_pair(QByteArray("1710428967"), QByteArray("0")));
    QCOMPARE(resetOf(1), std::make_pair(QByteArray("1710428967"), QByteArray("1")));
    QCOMPARE(resetOf(464'103), std::make_pair(QByteArray("1710428967"), QByteArray("1")));
    QCOMPARE(resetOf(464'104), std::make_pair(QByteArray("1710428968"), QByteArray("1")));
    QCOMPARE(resetOf(kSecond), std::make_pair(QByteArray("1710428968"), QByteArray("1")));
    QCOMPARE(resetOf(kSecond + 1), std::make_pair(QByteArray("1710428968"), QByteArray("2")));
}

void TestRateLimitHeaders::applyPolicyListsEveryRule()
{
    HttpHeaders h;
    RateLimitHeaders::apply(h, typical(true).d, ApiFamily::OpenAI, {});
    const auto policy = parseItems(h.value("RateLimit-Policy"));
    QCOMPARE(policy.size(), 5);
    const struct
    {
        const char *name;
        const char *q;
        const char *w;
    } expected[] = {
        {"key-rps", "20", "2"},  // burst 20 at 10/s: 20 per 2 s
        {"key-rpm", "60", "60"},    {"user-monthly-requests", "1000", "2678400"},  // March: 31 days
        {"key-tpm", "10000", "60"}, {"user-monthly-tokens", "1000000", "2678400"},
    };
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(policy[i].first, QByteArray(expected[i].name));
        QCOMPARE(policy[i].second.value("q"), QByteArray(expected[i].q));
        QCOMPARE(policy[i].second.value("w"), QByteArray(expected[i].w));
        QCOMPARE(policy[i].second.size(), 2);
    }
    QCOMPARE(countOf(h, "RateLimit-Policy"), 1);
    QCOMPARE(countOf(h, "RateLimit"), 1);
}

void TestRateLimitHeaders::applyQuotaHeaders()
{
    HttpHeaders h;
    RateLimitHeaders::apply(h, typical(true).d, ApiFamily::OpenAI, "free");
    QCOMPARE(h.value("X-Quota-Tier"), QByteArray("free"));
    QCOMPARE(h.value("X-Quota-Monthly-Remaining"), QByteArray("900"));  // requests, not tokens

    // Key and user quotas: the smaller remainder is what the client has.
    Builder b;
    b.allowed(makeRule("key-monthly-requests", LimitKind::MonthlyRequests, 100), 80.5, kToApril);
    b.allowed(
        makeRule("user-monthly-requests", LimitKind::MonthlyRequests, 1000, 0, LimitScope::User),
        40, kToApril);
    HttpHeaders two;
    RateLimitHeaders::apply(two, b.d, ApiFamily::OpenAI, {});
    QCOMPARE(two.value("X-Quota-Monthly-Remaining"), QByteArray("40"));
    QCOMPARE(countOf(two, "X-Quota-Monthly-Remaining"), 1);

    // No monthly request quota: no header.
    Builder c;
    c.allowed(makeRule("key-monthly-tokens", LimitKind::MonthlyTokens, 100), 10, kToApril);
    HttpHeaders none;
    RateLimitHeaders::apply(none, c.d, ApiFamily::OpenAI, {});
    QVERIFY(!none.contains("X-Quota-Monthly-Remaining"));
}

void TestRateLimitHeaders::applyOpenAiHeaders()
{
    HttpHeaders h;
    RateLimitHeaders::apply(h, typical(true).d, ApiFamily::OpenAI, {});
    // Requests: the closest request limit (per minute); tokens: the closest token limit.
    QCOMPARE(h.value("x-ratelimit-limit-requests"), QByteArray("60"));
    QCOMPARE(h.value("x-ratelimit-remaining-requests"), QByteArray("12"));
    QCOMPARE(h.value("x-ratelimit-reset-requests"), QByteArray("33.465s"));
    QCOMPARE(h.value("x-ratelimit-limit-tokens"), QByteArray("1000000"));
    QCOMPARE(h.value("x-ratelimit-remaining-tokens"), QByteArray("1000"));
    QCOMPARE(h.value("x-ratelimit-reset-tokens"), QByteArray("416h50m33.465s"));
    for (const HttpHeaders::Field &f : h.fields())
        QVERIFY2(!f.first.toLower().startsWith("anthropic-"), f.first.constData());
}

void TestRateLimitHeaders::applyAnthropicHeaders()
{
    HttpHeaders h;
    Builder b = typical(true);
    b.allowed(makeRule("ip-rps", LimitKind::RequestRate, 10, 10, LimitScope::Ip), 6.9, 600'000);
    RateLimitHeaders::apply(h, b.d, ApiFamily::Anthropic, "gold");
    // ip-rps: 6 of 10 (60 %) is not closer than key-rpm (20 %).
    QCOMPARE(h.value("anthropic-ratelimit-requests-limit"), QByteArray("60"));
    QCOMPARE(h.value("anthropic-ratelimit-requests-remaining"), QByteArray("12"));
    QCOMPARE(h.value("anthropic-ratelimit-requests-reset"), QByteArray("2024-03-14T15:10:00Z"));
    QCOMPARE(h.value("anthropic-ratelimit-tokens-limit"), QByteArray("1000000"));
    QCOMPARE(h.value("anthropic-ratelimit-tokens-remaining"), QByteArray("1000"));
    QCOMPARE(h.value("anthropic-ratelimit-tokens-reset"), QByteArray("2024-04-01T00:00:00Z"));
    for (const HttpHeaders::Field &f : h.fields())
        QVERIFY2(!f.first.toLower().startsWith("x-ratelimit-") || f.first == "X-RateLimit-Limit" ||
                     f.first == "X-RateLimit-Remaining" || f.first == "X-RateLimit-Reset" ||
                     f.first == "X-RateLimit-Type",
                 f.first.constData());
    // The family-neutral headers are there too.
    QCOMPARE(h.value("X-RateLimit-Type"), QByteArray("monthly"));
    QVERIFY(h.contains("RateLimit-Policy"));
    QCOMPARE(h.value("X-Quota-Tier"), QByteArray("gold"));

    // A reset between seconds is rounded up: never earlier than the real one.
    Builder r;
    r.allowed(makeRule("key-rps", LimitKind::RequestRate, 1, 1), 0, 600'000);  // 15:09:27.14
    HttpHeaders rh;
    RateLimitHeaders::apply(rh, r.d, ApiFamily::Anthropic, {});
    QCOMPARE(rh.value("anthropic-ratelimit-requests-reset"), QByteArray("2024-03-14T15:09:28Z"));
}

void TestRateLimitHeaders::applyTokenHeadersOnlyWithATokenRule()
{
    for (ApiFamily family : {ApiFamily::OpenAI, ApiFamily::Anthropic}) {
        HttpHeaders h;
        RateLimitHeaders::apply(h, typical(false).d, family, {});
        for (const HttpHeaders::Field &f : h.fields())
            QVERIFY2(!f.first.contains("tokens"), f.first.constData());
        QVERIFY(h.contains(family == ApiFamily::OpenAI ? "x-ratelimit-limit-requests"
                                                       : "anthropic-ratelimit-requests-limit"));
    }
    // Only token rules: token headers, no request ones.
    Builder b;
    b.allowed(makeRule("key-tpm", LimitKind::TokensPerMinute, 5000), 4000, kToNextMinute);
    HttpHeaders h;
    RateLimitHeaders::apply(h, b.d, ApiFamily::OpenAI, {});
    QCOMPARE(h.value("x-ratelimit-remaining-tokens"), QByteArray("4000"));
    QVERIFY(!h.contains("x-ratelimit-remaining-requests"));
}

void TestRateLimitHeaders::applyWithoutRules()
{
    HttpHeaders h;
    h.add("x-ratelimit-remaining-requests", "5");
    h.add("Content-Type", "text/plain");
    LimitDecision none;
    none.nowUs = kNow;
    RateLimitHeaders::apply(h, none, ApiFamily::OpenAI, "free");
    QCOMPARE(h.fields().size(), size_t(2));
    QCOMPARE(h.value("Content-Type"), QByteArray("text/plain"));
    QCOMPARE(h.value("X-Quota-Tier"), QByteArray("free"));
}

// ---- denial() ---------------------------------------------------------------------------------

void TestRateLimitHeaders::denialOpenAiRequests()
{
    Builder b;
    b.allowed(makeRule("key-rpm", LimitKind::RequestsPerMinute, 60), 1, kToNextMinute);
    b.denied(makeRule("key-rps", LimitKind::RequestRate, 10, 20), 0, 2 * kSecond, 1'200'000);
    const HttpResponse r = RateLimitHeaders::denial(b.d, ApiFamily::OpenAI, "gold");
    QCOMPARE(r.status, 429);
    QCOMPARE(r.headers.value("Content-Type"), QByteArray("application/json"));
    QCOMPARE(r.headers.value("Retry-After"), QByteArray("2"));
    QCOMPARE(r.headers.value("retry-after-ms"), QByteArray("1200"));
    QVERIFY(!r.headers.contains("x-should-retry"));
    QCOMPARE(countOf(r.headers, "Retry-After"), 1);
    // The headers name the denying rule, though the per-minute one has less left (1 of 60).
    QCOMPARE(r.headers.value("X-RateLimit-Limit"), QByteArray("20"));
    QCOMPARE(r.headers.value("X-RateLimit-Remaining"), QByteArray("0"));
    QCOMPARE(r.headers.value("X-RateLimit-Type"), QByteArray("key"));
    QCOMPARE(r.headers.value("x-ratelimit-limit-requests"), QByteArray("20"));
    QCOMPARE(r.headers.value("x-ratelimit-reset-requests"), QByteArray("2s"));
    QCOMPARE(parseItems(r.headers.value("RateLimit"))[0].first, QByteArray("key-rps"));
    QCOMPARE(parseItems(r.headers.value("RateLimit-Policy")).size(), 2);
    QCOMPARE(r.headers.value("X-Quota-Tier"), QByteArray("gold"));

    const QJsonObject body = bodyOf(r);
    QCOMPARE(body.keys(), QStringList{QStringLiteral("error")});
    const QJsonObject error = body.value("error").toObject();
    QCOMPARE(error.value("type").toString(), QStringLiteral("requests"));
    QCOMPARE(error.value("code").toString(), QStringLiteral("rate_limit_exceeded"));
    QVERIFY(error.value("param").isNull());
    const QString message = error.value("message").toString();
    QVERIFY2(message.contains("key-rps"), qPrintable(message));
    QVERIFY2(message.contains("1.2s"), qPrintable(message));
    QVERIFY2(message.contains("Tier: gold"), qPrintable(message));
}

void TestRateLimitHeaders::denialRetryAfterRounding_data()
{
    QTest::addColumn<qint64>("retryUs");
    QTest::addColumn<QByteArray>("seconds");
    QTest::addColumn<QByteArray>("ms");

    QTest::newRow("0") << qint64(0) << QByteArray("1") << QByteArray("1");
    QTest::newRow("1 µs") << qint64(1) << QByteArray("1") << QByteArray("1");
    QTest::newRow("1 ms") << qint64(1000) << QByteArray("1") << QByteArray("1");
    QTest::newRow("1.001 ms") << qint64(1001) << QByteArray("1") << QByteArray("2");
    QTest::newRow("999.5 ms") << qint64(999'500) << QByteArray("1") << QByteArray("1000");
    QTest::newRow("1 s") << qint64(kSecond) << QByteArray("1") << QByteArray("1000");
    QTest::newRow("1 s + 1 µs") << qint64(kSecond + 1) << QByteArray("2") << QByteArray("1001");
    QTest::newRow("59.2 s") << qint64(59'200'000) << QByteArray("60") << QByteArray("59200");
}

void TestRateLimitHeaders::denialRetryAfterRounding()
{
    QFETCH(qint64, retryUs);
    QFETCH(QByteArray, seconds);
    QFETCH(QByteArray, ms);
    Builder b;
    b.denied(makeRule("key-rpm", LimitKind::RequestsPerMinute, 60), 0, kToNextMinute, retryUs);
    const HttpResponse r = RateLimitHeaders::denial(b.d, ApiFamily::OpenAI, {});
    QCOMPARE(r.headers.value("Retry-After"), seconds);
    QCOMPARE(r.headers.value("retry-after-ms"), ms);
    bool ok = false;
    QVERIFY(r.headers.value("Retry-After").toInt(&ok) >= 1);
    QVERIFY(ok);
}

void TestRateLimitHeaders::denialShouldRetry_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<qint64>("retryUs");
    QTest::addColumn<bool>("neverFits");
    QTest::addColumn<bool>("shouldRetry");

    const int rate = int(LimitKind::RequestRate);
    const int rpm = int(LimitKind::RequestsPerMinute);
    const int tpm = int(LimitKind::TokensPerMinute);
    QTest::newRow("short wait") << rate << qint64(100'000) << false << true;
    QTest::newRow("exactly 60 s") << rpm << qint64(60 * kSecond) << false << true;
    QTest::newRow("60 s + 1 µs") << rpm << qint64(60 * kSecond + 1) << false << false;
    QTest::newRow("two minutes") << tpm << qint64(120 * kSecond) << false << false;
    QTest::newRow("never fits, short") << tpm << qint64(kSecond) << true << false;
    QTest::newRow("never fits rate") << rate << qint64(100'000) << true << false;
    QTest::newRow("monthly requests")
        << int(LimitKind::MonthlyRequests) << qint64(kSecond) << true << false;
    QTest::newRow("monthly tokens (even if not never-fits)")
        << int(LimitKind::MonthlyTokens) << qint64(kSecond) << false << false;
}

void TestRateLimitHeaders::denialShouldRetry()
{
    QFETCH(int, kind);
    QFETCH(qint64, retryUs);
    QFETCH(bool, neverFits);
    QFETCH(bool, shouldRetry);
    Builder b;
    b.denied(makeRule("key-x", LimitKind(kind), 100, 10), 0, retryUs, retryUs, neverFits);
    QCOMPARE(RateLimitHeaders::shouldRetry(b.d), shouldRetry);
    const HttpResponse r = RateLimitHeaders::denial(b.d, ApiFamily::OpenAI, {});
    QCOMPARE(r.headers.contains("x-should-retry"), !shouldRetry);
    if (!shouldRetry) {
        QCOMPARE(r.headers.value("x-should-retry"), QByteArray("false"));
        QCOMPARE(countOf(r.headers, "x-should-retry"), 1);
    }
    // An allowed decision has nothing to hold back.
    QVERIFY(RateLimitHeaders::shouldRetry(typical(true).d));
}

void TestRateLimitHeaders::denialOpenAiTokens()
{
    Builder b = typical(false);
    b.denied(makeRule("key-tpm", LimitKind::TokensPerMinute, 10'000), 3000, kToNextMinute,
             20 * kSecond);
    b.d.tokenEstimate = 4096;
    const HttpResponse r = RateLimitHeaders::denial(b.d, ApiFamily::OpenAI, {});
    const QJsonObject error = bodyOf(r).value("error").toObject();
    QCOMPARE(error.value("type").toString(), QStringLiteral("tokens"));
    QCOMPARE(error.value("code").toString(), QStringLiteral("rate_limit_exceeded"));
    QVERIFY(error.value("message").toString().contains("key-tpm"));
    QVERIFY(!error.value("message").toString().contains("Tier"));
    QCOMPARE(r.headers.value("X-RateLimit-Type"), QByteArray("tokens"));
    QCOMPARE(r.headers.value("x-ratelimit-remaining-tokens"), QByteArray("3000"));
    QCOMPARE(r.headers.value("x-ratelimit-remaining-requests"), QByteArray("12"));
    QCOMPARE(r.headers.value("Retry-After"), QByteArray("20"));
    QVERIFY(!r.headers.contains("x-should-retry"));
}

void TestRateLimitHeaders::denialMonthlyQuota()
{
    Builder b;
    b.allowed(makeRule("key-rps", LimitKind::RequestRate, 10, 20), 19, 100'000);
    b.denied(
        makeRule("user-monthly-requests", LimitKind::MonthlyRequests, 5000, 0, LimitScope::User), 0,
        kToApril, kToApril, true);
    const HttpResponse r = RateLimitHeaders::denial(b.d, ApiFamily::OpenAI, "free");
    QCOMPARE(r.status, 429);
    const QJsonObject error = bodyOf(r).value("error").toObject();
    QCOMPARE(error.value("type").toString(), QStringLiteral("insufficient_quota"));
    QCOMPARE(error.value("code").toString(), QStringLiteral("insufficient_quota"));
    const QString message = error.value("message").toString();
    QVERIFY2(message.contains("user-monthly-requests"), qPrintable(message));
    QVERIFY2(message.contains("2024-04-01T00:00:00Z"), qPrintable(message));
    QCOMPARE(r.headers.value("x-should-retry"), QByteArray("false"));
    QCOMPARE(r.headers.value("Retry-After"), QByteArray::number((kToApril + 999'999) / kSecond));
    QCOMPARE(r.headers.value("retry-after-ms"), QByteArray::number((kToApril + 999) / 1000));
    QCOMPARE(r.headers.value("X-RateLimit-Type"), QByteArray("monthly"));
    QCOMPARE(r.headers.value("X-Quota-Monthly-Remaining"), QByteArray("0"));
    QCOMPARE(r.headers.value("X-RateLimit-Reset"), QByteArray("1711929600"));

    // Monthly tokens are a quota too.
    Builder t;
    t.denied(makeRule("key-monthly-tokens", LimitKind::MonthlyTokens, 1e6), 10, kToApril, kToApril,
             true);
    const QJsonObject tokens =
        bodyOf(RateLimitHeaders::denial(t.d, ApiFamily::OpenAI, {})).value("error").toObject();
    QCOMPARE(tokens.value("type").toString(), QStringLiteral("insufficient_quota"));
    QCOMPARE(tokens.value("code").toString(), QStringLiteral("insufficient_quota"));
}

void TestRateLimitHeaders::denialTooLarge()
{
    Builder b;
    b.denied(makeRule("key-tpm", LimitKind::TokensPerMinute, 8000), 8000, 0, 60 * kSecond, true);
    b.d.tokenEstimate = 16'384;
    const HttpResponse r = RateLimitHeaders::denial(b.d, ApiFamily::OpenAI, {});
    QCOMPARE(r.headers.value("x-should-retry"), QByteArray("false"));
    const QJsonObject error = bodyOf(r).value("error").toObject();
    QCOMPARE(error.value("type").toString(), QStringLiteral("tokens"));
    QCOMPARE(error.value("code").toString(), QStringLiteral("rate_limit_exceeded"));
    const QString message = error.value("message").toString();
    QVERIFY2(message.contains("8000") && message.contains("16384"), qPrintable(message));
}

void TestRateLimitHeaders::denialAnthropic()
{
    Builder b = typical(true);
    b.denied(makeRule("key-rps2", LimitKind::RequestRate, 1, 1), 0, 700'000, 700'000);
    const HttpResponse r = RateLimitHeaders::denial(b.d, ApiFamily::Anthropic, "gold");
    QCOMPARE(r.status, 429);
    const QJsonObject body = bodyOf(r);
    QCOMPARE(body.value("type").toString(), QStringLiteral("error"));
    const QJsonObject error = body.value("error").toObject();
    QCOMPARE(error.value("type").toString(), QStringLiteral("rate_limit_error"));
    QVERIFY(error.value("message").toString().contains("key-rps2"));
    QCOMPARE(error.keys(), (QStringList{"message", "type"}));
    QCOMPARE(r.headers.value("Retry-After"), QByteArray("1"));
    QCOMPARE(r.headers.value("retry-after-ms"), QByteArray("700"));
    QCOMPARE(r.headers.value("anthropic-ratelimit-requests-limit"), QByteArray("1"));
    QCOMPARE(r.headers.value("anthropic-ratelimit-requests-remaining"), QByteArray("0"));
    QCOMPARE(r.headers.value("anthropic-ratelimit-requests-reset"),
             QByteArray("2024-03-14T15:09:28Z"));  // 15:09:27.236 rounded up
    QCOMPARE(r.headers.value("anthropic-ratelimit-tokens-remaining"), QByteArray("1000"));
    QVERIFY(!r.headers.contains("x-ratelimit-limit-requests"));

    // A spent quota is a rate_limit_error too in Anthropic's shape, not to be retried.
    Builder m;
    m.denied(makeRule("user-monthly-requests", LimitKind::MonthlyRequests, 10, 0, LimitScope::User),
             0, kToApril, kToApril, true);
    const HttpResponse q = RateLimitHeaders::denial(m.d, ApiFamily::Anthropic, {});
    QCOMPARE(bodyOf(q).value("error").toObject().value("type").toString(),
             QStringLiteral("rate_limit_error"));
    QCOMPARE(q.headers.value("x-should-retry"), QByteArray("false"));
}

void TestRateLimitHeaders::denialBodyIsValidJsonWhateverTheTier()
{
    Builder b;
    b.denied(makeRule("key-rpm", LimitKind::RequestsPerMinute, 5), 0, kSecond, kSecond);
    const QByteArray tier = "we\"ird\\tier\n";
    for (ApiFamily family : {ApiFamily::OpenAI, ApiFamily::Anthropic}) {
        const QJsonObject error =
            bodyOf(RateLimitHeaders::denial(b.d, family, tier)).value("error").toObject();
        QVERIFY(error.value("message").toString().contains(QString::fromLatin1(tier)));
    }
}

void TestRateLimitHeaders::denialFromTheMemoryStore()
{
    // A real decision: a key with 2/s and a burst of 2 and a per-minute limit of 100.
    MemoryLimitStore store;
    LimitRequest request;
    request.rules = {makeRule("key-rps", LimitKind::RequestRate, 2, 2),
                     makeRule("key-rpm", LimitKind::RequestsPerMinute, 100)};
    const qint64 t0 = 1'710'428'940'000'000;  // 15:09:00Z
    QVERIFY(store.decideAt(request, t0).allowed);
    const LimitDecision second = store.decideAt(request, t0);
    QVERIFY(second.allowed);
    HttpHeaders h;
    RateLimitHeaders::apply(h, second, ApiFamily::OpenAI, {});
    QCOMPARE(h.value("X-RateLimit-Remaining"), QByteArray("0"));
    QCOMPARE(h.value("X-RateLimit-Limit"), QByteArray("2"));
    QCOMPARE(h.value("X-RateLimit-Reset"), QByteArray("1710428941"));  // full again in 1 s

    const LimitDecision third = store.decideAt(request, t0 + 100'000);
    QVERIFY(!third.allowed);
    const HttpResponse r = RateLimitHeaders::denial(third, ApiFamily::OpenAI, {});
    QCOMPARE(r.headers.value("retry-after-ms"), QByteArray("400"));
    QCOMPARE(r.headers.value("Retry-After"), QByteArray("1"));
    QVERIFY(!r.headers.contains("x-should-retry"));
    const auto policy = parseItems(r.headers.value("RateLimit-Policy"));
    QCOMPARE(policy.size(), 2);
    QCOMPARE(policy[0].second.value("w"), QByteArray("1"));
    QCOMPARE(policy[1].second.value("q"), QByteArray("100"));
    QCOMPARE(bodyOf(r).value("error").toObject().value("type").toString(),
             QStringLiteral("requests"));
}

// ---- [cost] -----------------------------------------------------------------------------------

void TestRateLimitHeaders::costRouteNames()
{
    const QStringList expected{"chat_completions", "completions", "embeddings",  "responses",
                               "models",           "messages",    "count_tokens"};
    QCOMPARE(CostTable::routeNames(), expected);
    QCOMPARE(CostTable::routeName("/v1/chat/completions"), QByteArrayView("chat_completions"));
    QCOMPARE(CostTable::routeName("/v1/completions"), QByteArrayView("completions"));
    QCOMPARE(CostTable::routeName("/v1/embeddings"), QByteArrayView("embeddings"));
    QCOMPARE(CostTable::routeName("/v1/responses"), QByteArrayView("responses"));
    QCOMPARE(CostTable::routeName("/v1/models"), QByteArrayView("models"));
    QCOMPARE(CostTable::routeName("/v1/messages"), QByteArrayView("messages"));
    QCOMPARE(CostTable::routeName("/v1/messages/count_tokens"), QByteArrayView("count_tokens"));
    for (const char *other : {"", "/", "/v1", "/v1/", "/v1/chat/completions/", "/v2/embeddings",
                              "/v1/chat", "/V1/EMBEDDINGS", "/v1/embeddings?x=1"})
        QVERIFY2(CostTable::routeName(other).isEmpty(), other);
}

void TestRateLimitHeaders::costFromIni()
{
    QString error;
    // No [cost] section: everything costs 1.
    std::optional<CostTable> t = CostTable::fromIni({}, &error);
    QVERIFY(t);
    QVERIFY(error.isEmpty());
    for (const char *path : {"/v1/chat/completions", "/v1/embeddings", "/v1/models", "/x"})
        QCOMPARE(t->costOf(path), 1.0);

    QMap<QString, QMap<QString, QVariant>> ini;
    ini["server"]["listen"] = "0.0.0.0:8080";  // other sections are not this table's business
    ini["cost"]["embeddings"] = " 0.5 ";
    ini["cost"]["models"] = "0";
    ini["cost"]["chat_completions"] = "2";
    ini["cost"]["count_tokens"] = "1e3";
    ini["cost"]["responses"] = 1.25;  // a number, not a string
    t = CostTable::fromIni(ini, &error);
    QVERIFY2(t, qPrintable(error));
    QCOMPARE(t->costOf("/v1/embeddings"), 0.5);
    QCOMPARE(t->costOf("/v1/models"), 0.0);
    QCOMPARE(t->costOf("/v1/chat/completions"), 2.0);
    QCOMPARE(t->costOf("/v1/messages/count_tokens"), 1000.0);
    QCOMPARE(t->costOf("/v1/responses"), 1.25);
    QCOMPARE(t->costOf("/v1/completions"), 1.0);  // unlisted
    QCOMPARE(t->costOf("/v1/messages"), 1.0);
    QCOMPARE(t->costOf("/v1/unknown"), 1.0);
    QCOMPARE(t->costOf("/v1/embeddings/"), 1.0);

    // An empty section is a table of ones.
    QMap<QString, QMap<QString, QVariant>> empty;
    empty["cost"] = {};
    t = CostTable::fromIni(empty, &error);
    QVERIFY(t);
    QCOMPARE(t->costOf("/v1/embeddings"), 1.0);

    CostTable manual;
    manual.set("messages", 3);
    QCOMPARE(manual.costOf("/v1/messages"), 3.0);
    QCOMPARE(manual.costOf("/v1/chat/completions"), 1.0);
}

void TestRateLimitHeaders::costFromIniErrors_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QStringList>("mentions");

    const QStringList unknown{"unknown key", "chat_completions", "count_tokens"};
    QTest::newRow("unknown route")
        << QStringLiteral("images") << QVariant("2") << (QStringList{"\"images\""} + unknown);
    QTest::newRow("path instead of name") << QStringLiteral("chat/completions") << QVariant("2")
                                          << (QStringList{"\"chat/completions\""} + unknown);
    QTest::newRow("wrong case") << QStringLiteral("Embeddings") << QVariant("2")
                                << (QStringList{"\"Embeddings\""} + unknown);
    const QStringList range{"embeddings", "0 to 1000"};
    QTest::newRow("not a number") << QStringLiteral("embeddings") << QVariant("cheap")
                                  << (QStringList{"\"cheap\""} + range);
    QTest::newRow("empty") << QStringLiteral("embeddings") << QVariant("") << range;
    QTest::newRow("negative") << QStringLiteral("embeddings") << QVariant("-1")
                              << (QStringList{"\"-1\""} + range);
    QTest::newRow("too large") << QStringLiteral("embeddings") << QVariant("1000.5")
                               << (QStringList{"\"1000.5\""} + range);
    QTest::newRow("nan") << QStringLiteral("embeddings") << QVariant("nan") << range;
    QTest::newRow("inf") << QStringLiteral("embeddings") << QVariant("inf") << range;
    QTest::newRow("trailing junk")
        << QStringLiteral("embeddings") << QVariant("0.5x") << (QStringList{"\"0.5x\""} + range);
    QTest::newRow("comma decimal") << QStringLiteral("embeddings") << QVariant("0,5") << range;
}

void TestRateLimitHeaders::costFromIniErrors()
{
    QFETCH(QString, key);
    QFETCH(QVariant, value);
    QFETCH(QStringList, mentions);
    QMap<QString, QMap<QString, QVariant>> ini;
    ini["cost"]["models"] = "0";  // valid entries around the bad one change nothing
    ini["cost"][key] = value;
    QString error;
    QVERIFY(!CostTable::fromIni(ini, &error));
    for (const QString &m : mentions)
        QVERIFY2(error.contains(m), qPrintable(error + " lacks " + m));
}

QTEST_GUILESS_MAIN(TestRateLimitHeaders)
#include "tst_ratelimitheaders.moc"
