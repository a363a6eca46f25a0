#pragma once

#include <QVariantMap>

class QAbstractItemModel;

namespace sluice {

// Row `row` of a list model as {role name: value}, for QML's model.get(row): every role the
// model names, read through data(). Empty for a row out of range.
QVariantMap modelRowAsMap(const QAbstractItemModel &model, int row);

}  // namespace sluice
