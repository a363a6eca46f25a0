#pragma once

#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>
#include <utility>

namespace sluice {

// An aligned plain-text table for list commands: a heading row, then one row per item,
// columns separated by two spaces, numeric columns right-aligned, no trailing blanks.
class TextTable
{
public:
    explicit TextTable(QStringList headers) : m_headers(std::move(headers)) {}

    void setRightAligned(int column) { m_right.insert(column); }
    void addRow(QStringList cells) { m_rows.append(std::move(cells)); }
    qsizetype rowCount() const { return m_rows.size(); }
    QString render() const;

private:
    QStringList m_headers;
    QList<QStringList> m_rows;
    QSet<int> m_right;
};

}  // namespace sluice
