import QtQuick
import QtTest
import Sluice.Dashboard
import Sluice.Ui

// The inline limit editor: shows the own value, saves through the editor on Enter, keeps a
// refused value with the service's message, reverts on Escape.
Item {
    id: root
    width: 400
    height: 200

    LimitField {
        id: field
        editor: testDashboard.editor
        limit: "requests_per_minute"
        own: 5
        effective: 5
        owner: "key sk-sluice-AAAA"
        save: (text) => testDashboard.editor.setKeyLimit("10", "requests_per_minute", text)
    }

    TestCase {
        name: "LimitField"
        when: windowShown

        function init() {
            testSource.setEditError("")
            tryCompare(field, "ticket", -1)
            field.own = 5
            field.revert()
            root.forceActiveFocus()
            tryCompare(field, "ticket", -1)
        }

        function test_showsOwnValueAndEffectivePlaceholder() {
            compare(field.text, "5")
            field.own = undefined
            compare(field.text, "")
            field.effective = 0
            compare(field.placeholderText, "unlimited")
            field.effective = 1200
            verify(field.placeholderText.indexOf("200") > 0)
            field.own = 5
            compare(field.Accessible.name, "requests per minute of key sk-sluice-AAAA")
        }

        function test_enterSaves() {
            const before = testSource.editCount()
            field.forceActiveFocus()
            field.selectAll()
            keyClick(Qt.Key_1)
            keyClick(Qt.Key_2)
            keyClick(Qt.Key_Return)
            tryCompare(field, "ticket", -1)
            compare(testSource.editCount(), before + 1)
            const edit = testSource.lastEdit()
            compare(edit.target, "10")
            compare(edit.body.requests_per_minute, 12)
            compare(field.error, "")
        }

        function test_refusedValueShowsMessageAndStays() {
            testSource.setEditError("requests_per_minute must be a non-negative integer, got \"abc\"")
            field.forceActiveFocus()
            field.text = "abc"
            field.commit()
            tryVerify(() => field.error !== "")
            compare(field.error, "requests_per_minute must be a non-negative integer, got \"abc\"")
            compare(field.text, "abc")
            compare(testSource.lastEdit().body.requests_per_minute, "abc")
            keyClick(Qt.Key_Escape)
            compare(field.text, "5")
            compare(field.error, "")
        }

        function test_emptyMeansInherit() {
            field.text = ""
            field.commit()
            tryCompare(field, "ticket", -1)
            compare(testSource.lastEdit().body.requests_per_minute, null)
        }
    }
}
