#include "MetricsExposition.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace sluice {

namespace {

enum class Format
{
    Text,
    OpenMetrics
};

const char *typeName(MetricType type)
{
    switch (type) {
        case MetricType::Counter:
            return "counter";
        case MetricType::Gauge:
            return "gauge";
        case MetricType::Histogram:
            return "histogram";
    }
    return "untyped";
}

// Writes name{a="x",b="y"[,le="..."]} followed by a space.
void appendSeriesName(QByteArray &out, QByteArrayView name, QByteArrayView suffix,
                      const QList<QByteArray> &labelNames, const QList<QByteArray> &labelValues,
                      QByteArrayView le = {})
{
    out.append(name);
    out.append(suffix);
    const qsizetype n = std::min(labelNames.size(), labelValues.size());
    if (n > 0 || !le.isNull()) {
        out.append('{');
        for (qsizetype i = 0; i < n; ++i) {
            if (i)
                out.append(',');
            out.append(labelNames[i]);
            out.append("=\"");
            MetricsExposition::appendLabelValue(out, labelValues[i]);
            out.append('"');
        }
        if (!le.isNull()) {
            if (n)
                out.append(',');
            out.append("le=\"");
            out.append(le);
            out.append('"');
        }
        out.append('}');
    }
    out.append(' ');
}

void appendValueLine(QByteArray &out, double v)
{
    MetricsExposition::appendNumber(out, v);
    out.append('\n');
}

void appendFamily(QByteArray &out, const MetricSnapshot &family, Format format)
{
    // OpenMetrics names a counter family without "_total"; its samples carry the suffix.
    // (A counter registered without the suffix still gets valid OpenMetrics samples.)
    QByteArrayView familyName = family.name;
    QByteArrayView sampleSuffix;
    if (format == Format::OpenMetrics && family.type == MetricType::Counter) {
        if (familyName.endsWith("_total"))
            familyName.chop(6);
        sampleSuffix = "_total";
    }

    // Text: HELP then TYPE (as the Go client); OpenMetrics: TYPE then HELP (its SHOULD).
    if (format == Format::Text) {
        out.append("# HELP ").append(familyName).append(' ');
        MetricsExposition::appendTextHelp(out, family.help);
        out.append("\n# TYPE ").append(familyName).append(' ');
        out.append(typeName(family.type)).append('\n');
    } else {
        out.append("# TYPE ").append(familyName).append(' ');
        out.append(typeName(family.type)).append('\n');
        if (!family.help.isEmpty()) {  // an empty HELP means none in OpenMetrics
            out.append("# HELP ").append(familyName).append(' ');
            MetricsExposition::appendOpenMetricsHelp(out, family.help);
            out.append('\n');
        }
    }

    QByteArray le;
    for (const MetricSnapshot::Series &series : family.series) {
        if (family.type != MetricType::Histogram) {
            appendSeriesName(out, familyName, sampleSuffix, family.labelNames, series.labelValues);
            appendValueLine(out, series.value);
            continue;
        }
        for (size_t i = 0; i < series.cumulativeCounts.size(); ++i) {
            le.resize(0);
            if (i < family.upperBounds.size()) {
                if (format == Format::Text)
                    MetricsExposition::appendGoFloat(le, family.upperBounds[i]);
                else
                    MetricsExposition::appendCanonicalFloat(le, family.upperBounds[i]);
            } else {
                le.append("+Inf");
            }
            appendSeriesName(out, familyName, "_bucket", family.labelNames, series.labelValues, le);
            appendValueLine(out, double(series.cumulativeCounts[i]));
        }
        appendSeriesName(out, familyName, "_sum", family.labelNames, series.labelValues);
        appendValueLine(out, series.sum);
        appendSeriesName(out, familyName, "_count", family.labelNames, series.labelValues);
        appendValueLine(out, double(series.count));
    }
}

bool appendNonFinite(QByteArray &out, double v)
{
    if (std::isnan(v)) {
        out.append("NaN");
        return true;
    }
    if (std::isinf(v)) {
        out.append(v > 0 ? "+Inf" : "-Inf");
        return true;
    }
    return false;
}

}  // namespace

QByteArray MetricsExposition::text(const std::vector<MetricSnapshot> &families)
{
    QByteArray out;
    out.reserve(4096);
    for (const MetricSnapshot &family : families)
        appendFamily(out, family, Format::Text);
    return out;
}

QByteArray MetricsExposition::openMetrics(const std::vector<MetricSnapshot> &families)
{
    QByteArray out;
    out.reserve(4096);
    for (const MetricSnapshot &family : families)
        appendFamily(out, family, Format::OpenMetrics);
    out.append("# EOF\n");
    return out;
}

void MetricsExposition::appendNumber(QByteArray &out, double v)
{
    if (appendNonFinite(out, v))
        return;
    // Integers below 2^53 are exact in a double: print them plainly (counts, bytes).
    if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, qint64(v));
        out.append(buf, r.ptr - buf);
        return;
    }
    appendGoFloat(out, v);
}

void MetricsExposition::appendGoFloat(QByteArray &out, double v)
{
    if (appendNonFinite(out, v))
        return;
    // Shortest round-trip digits from to_chars, laid out as Go's strconv does for 'g' with
    // shortest precision (ftoa.go: exponent form when exp < -4 || exp >= 6).
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    const char *p = buf;
    const char *end = r.ptr;
    bool negative = false;
    if (*p == '-') {
        negative = true;
        ++p;
    }
    // Mantissa digits without the dot, then the decimal exponent.
    char digits[32];
    int nd = 0;
    for (; p != end && *p != 'e'; ++p) {
        if (*p != '.')
            digits[nd++] = *p;
    }
    int exp = 0;
    if (p != end) {
        ++p;  // 'e'
        const bool negativeExp = *p == '-';
        if (*p == '-' || *p == '+')
            ++p;
        std::from_chars(p, end, exp);
        if (negativeExp)
            exp = -exp;
    }

    if (negative)
        out.append('-');
    if (exp < -4 || exp >= 6) {
        out.append(digits[0]);
        if (nd > 1) {
            out.append('.');
            out.append(digits + 1, nd - 1);
        }
        out.append('e');
        out.append(exp < 0 ? '-' : '+');
        const int a = std::abs(exp);
        if (a < 10)
            out.append('0');
        char expDigits[8];
        const auto e = std::to_chars(expDigits, expDigits + sizeof expDigits, a);
        out.append(expDigits, e.ptr - expDigits);
        return;
    }
    if (exp < 0) {
        out.append("0.");
        for (int i = 0; i < -exp - 1; ++i)
            out.append('0');
        out.append(digits, nd);
        return;
    }
    // exp in [0, 5]: integer part is digits[0..exp], padded with zeros when short.
    for (int i = 0; i <= exp; ++i)
        out.append(i < nd ? digits[i] : '0');
    if (nd > exp + 1) {
        out.append('.');
        out.append(digits + exp + 1, nd - exp - 1);
    }
}

void MetricsExposition::appendCanonicalFloat(QByteArray &out, double v)
{
    const qsizetype start = out.size();
    appendGoFloat(out, v);
    if (!std::isfinite(v))
        return;
    const QByteArrayView written = QByteArrayView(out).sliced(start);
    if (!written.contains('.') && !written.contains('e'))
        out.append(".0");
}

void MetricsExposition::appendLabelValue(QByteArray &out, QByteArrayView value)
{
    for (char c : value) {
        switch (c) {
            case '\\':
                out.append("\\\\");
                break;
            case '"':
                out.append("\\\"");
                break;
            case '\n':
                out.append("\\n");
                break;
            default:
                out.append(c);
        }
    }
}

void MetricsExposition::appendTextHelp(QByteArray &out, QByteArrayView help)
{
    for (char c : help) {
        if (c == '\\')
            out.append("\\\\");
        else if (c == '\n')
            out.append("\\n");
        else
            out.append(c);
    }
}

void MetricsExposition::appendOpenMetricsHelp(QByteArray &out, QByteArrayView help)
{
    appendLabelValue(out, help);  // same escaping as label values
}

}  // namespace sluice
