import QtQuick
import QtQuick.Controls

// A table column's caption. With `sortModel` and `sortKey` set it sorts the table: click, Enter
// or Space sorts by the column, again reverses; an arrow shows the sort column and direction.
Label {
    id: header
    property string title
    property string tip
    // Any object with sortKey, descending and toggleSort(key) (KeysFilterModel).
    property var sortModel: null
    property string sortKey: ""
    // What a screen reader says after "Sort by": the column in words.
    property string spoken: title.toLowerCase()
    readonly property bool sortable: sortModel !== null && sortKey !== ""
    readonly property bool sorted: sortable && sortModel.sortKey === sortKey
    readonly property bool descending: sorted && sortModel.descending

    function toggle() {
        if (sortable)
            sortModel.toggleSort(sortKey)
    }

    objectName: sortKey !== "" ? "sortHeader:" + sortKey : ""
    text: title + (sorted ? (descending ? " ▼" : " ▲") : "")
    color: sorted ? Theme.text : Theme.textMuted
    font.pixelSize: Theme.fontSmall
    font.bold: true
    elide: Text.ElideRight
    activeFocusOnTab: sortable
    Accessible.role: sortable ? Accessible.Button : Accessible.ColumnHeader
    Accessible.name: sortable ? "Sort by " + spoken + (sorted ? (descending ? ", descending" : ", ascending") : "")
                              : title
    Accessible.onPressAction: toggle()
    Keys.onReturnPressed: toggle()
    Keys.onEnterPressed: toggle()
    Keys.onSpacePressed: toggle()

    HoverHandler {
        id: hover
        cursorShape: header.sortable ? Qt.PointingHandCursor : Qt.ArrowCursor
    }
    TapHandler {
        enabled: header.sortable
        onTapped: header.toggle()
    }
    ToolTip.visible: (hover.hovered || activeFocus) && tip !== ""
    ToolTip.delay: 600
    ToolTip.text: tip

    Rectangle {  // keyboard focus
        visible: header.activeFocus
        anchors.fill: parent
        anchors.margins: -2
        color: "transparent"
        border.color: Theme.accent
        border.width: 1
        radius: 2
    }
}
