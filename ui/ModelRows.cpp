#include "ModelRows.h"

#include <QAbstractItemModel>

namespace sluice {

QVariantMap modelRowAsMap(const QAbstractItemModel &model, int row)
{
    QVariantMap out;
    if (row < 0 || row >= model.rowCount())
        return out;
    const QModelIndex index = model.index(row, 0);
    const QHash<int, QByteArray> names = model.roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        out.insert(QString::fromLatin1(it.value()), model.data(index, it.key()));
    return out;
}

}  // namespace sluice
