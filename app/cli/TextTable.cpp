#include "TextTable.h"

#include <algorithm>

namespace sluice {

QString TextTable::render() const
{
    QList<qsizetype> widths(m_headers.size(), 0);
    auto measure = [&widths](const QStringList &cells) {
        for (qsizetype i = 0; i < cells.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], cells.at(i).size());
    };
    measure(m_headers);
    for (const QStringList &row : m_rows)
        measure(row);

    QString out;
    auto writeRow = [&](const QStringList &cells) {
        QString line;
        for (qsizetype i = 0; i < widths.size(); ++i) {
            const QString cell = cells.value(i);
            if (i > 0)
                line += QStringLiteral("  ");
            line += m_right.contains(int(i)) ? cell.rightJustified(widths[i])
                                             : cell.leftJustified(widths[i]);
        }
        // Trailing blanks only confuse diffs and `cut`.
        while (line.endsWith(u' '))
            line.chop(1);
        out += line + u'\n';
    };
    writeRow(m_headers);
    for (const QStringList &row : m_rows)
        writeRow(row);
    return out;
}

}  // namespace sluice
