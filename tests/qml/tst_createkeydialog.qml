import QtQuick
import QtQuick.Controls
import QtTest
import Sluice.Dashboard
import Sluice.Ui

// The create-key dialog: what it submits, the plaintext shown once with its warning, a refused
// creation shown with the service's message, and cancel submitting nothing.
Item {
    id: root
    width: 1000
    height: 800

    CreateKeyDialog {
        id: dialog
        dashboard: testDashboard
    }

    TestCase {
        name: "CreateKeyDialog"
        when: windowShown

        function cleanup() {
            testSource.setEditError("")
            testSource.setEditResult({})
            dialog.close()
        }

        function test_createShowsThePlaintextOnce() {
            testSource.setEditResult({"key": "sk-sluice-NEWKEY0123456789", "prefix": "sk-sluice-NEWK"})
            dialog.openFor("carol")
            tryCompare(dialog, "opened", true)
            const before = testSource.editCount()
            dialog.create()
            compare(testSource.editCount(), before + 1)
            const edit = testSource.lastEdit()
            compare(edit.body.user, "carol")
            compare(edit.body.create_user, true)
            verify(!("tier" in edit.body), "no tier chosen: the user's")
            tryCompare(dialog, "plaintext", "sk-sluice-NEWKEY0123456789")
            compare(dialog.prefix, "sk-sluice-NEWK")
            compare(dialog.error, "")
            const shown = findChild(dialog.contentItem, "createdKey")
            verify(shown, "the key field")
            compare(shown.text, "sk-sluice-NEWKEY0123456789")
            compare(shown.readOnly, true)
            compare(dialog.title, "Your new key")
            // Opening it again starts over: the key is never shown a second time.
            dialog.openFor("")
            compare(dialog.plaintext, "")
            compare(dialog.title, "Create an API key")
        }

        function test_refusedCreationShowsTheMessage() {
            testSource.setEditError("user \"nobody\" does not exist")
            dialog.openFor("nobody")
            dialog.create()
            tryCompare(dialog, "error", "user \"nobody\" does not exist")
            compare(dialog.plaintext, "")
            compare(dialog.title, "Create an API key")
        }

        function test_cancelSubmitsNothing() {
            const before = testSource.editCount()
            dialog.openFor("dave")
            tryCompare(dialog, "opened", true)
            dialog.reject()
            tryCompare(dialog, "visible", false)
            compare(testSource.editCount(), before)
        }
    }
}
