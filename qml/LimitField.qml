import QtQuick
import QtQuick.Controls
import Sluice.Ui

// An inline editor for one limit of a key, user or tier. Shows the principal's own value (empty
// = inherited, the effective value as placeholder); Enter saves through the KeyEditor, Escape
// reverts. A refused value keeps the text, turns the field red and shows the admin service's
// message; nothing is saved then.
TextField {
    id: field
    required property KeyEditor editor
    required property string limit      // "requests_per_minute"
    property var own: undefined          // the principal's own value, undefined = inherit
    property real effective: 0
    property string owner: ""            // for the accessible name: "key sk-sluice-AbCd"
    // function(text) -> ticket: the edit to make
    property var save: null
    property int ticket: -1
    property string error: ""

    readonly property string ownText: own === undefined || own === null ? "" : String(own)

    implicitWidth: 92
    selectByMouse: true
    font.pixelSize: Theme.fontBody
    placeholderText: Fmt.limit(effective, limit)
    horizontalAlignment: Text.AlignRight
    Accessible.name: limit.replace(/_/g, " ") + (owner !== "" ? " of " + owner : "")
    Accessible.description: error !== "" ? error : "Empty inherits; 0 is unlimited; Enter saves"
    color: error !== "" ? Theme.error : Theme.text

    background: Rectangle {
        implicitHeight: 28
        radius: 3
        color: field.activeFocus ? Theme.surface : "transparent"
        border.width: field.error !== "" ? 2 : 1
        border.color: field.error !== "" ? Theme.error
                                         : (field.activeFocus ? Theme.accent : Theme.border)
    }

    ToolTip.visible: (hovered || activeFocus) && (error !== "" || hovered)
    ToolTip.delay: error !== "" ? 0 : 600
    ToolTip.text: error !== "" ? error
                               : "Effective: " + Fmt.limit(effective, limit)
                                 + (ownText === "" ? " (inherited)" : "")
                                 + ". Empty inherits, 0 is unlimited; Enter saves, Esc reverts."

    Component.onCompleted: text = ownText
    onOwnTextChanged: if (!activeFocus && ticket < 0) text = ownText
    onAccepted: commit()
    onEditingFinished: if (text !== ownText && ticket < 0 && error === "") commit()
    // Escape reverts an edit; with nothing to revert it goes on (a dialog around closes).
    Keys.onEscapePressed: (event) => {
        if (text !== ownText || error !== "")
            revert()
        else
            event.accepted = false
    }

    function revert() {
        text = ownText
        error = ""
    }
    // Saves the text as it is (also when unchanged: the driver and tests rely on one answer).
    function commit() {
        if (!save || ticket >= 0)  // Enter fires both accepted and editingFinished
            return
        error = ""
        ticket = save(text)
    }

    Connections {
        target: field.editor
        function onFinished(t, ok, message) {
            if (t !== field.ticket)
                return
            field.ticket = -1
            field.error = ok ? "" : message
        }
    }
}
