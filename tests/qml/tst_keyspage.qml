import QtQuick
import QtTest
import Sluice.Dashboard
import Sluice.Ui

// The Keys page: rows with inline editors named by key and field, edits through the editor,
// search, and the first-run panel of an empty gateway.
Item {
    id: root
    width: 1400
    height: 800

    KeysPage {
        id: page
        anchors.fill: parent
        dashboard: testDashboard
    }
    KeysPage {
        id: firstRun
        visible: false
        width: 1400
        height: 800
        dashboard: emptyDashboard
    }

    TestCase {
        name: "KeysPage"
        when: windowShown

        function test_rowsAndInlineEdit() {
            tryCompare(testDashboard.keys, "count", 2, 5000)
            const burst = findChild(page, "limitField:sk-sluice-AAAA:burst")
            verify(burst, "burst editor of the first key")
            compare(burst.text, "5")
            const before = testSource.editCount()
            burst.text = "9"
            burst.commit()
            tryCompare(burst, "ticket", -1)
            compare(testSource.editCount(), before + 1)
            compare(testSource.lastEdit().target, "10")
            compare(testSource.lastEdit().body.burst, 9)
        }

        function test_search() {
            tryCompare(testDashboard.keys, "count", 2, 5000)
            testDashboard.filteredKeys.search = "BBBB"
            compare(testDashboard.filteredKeys.count, 1)
            testDashboard.filteredKeys.search = ""
            compare(testDashboard.filteredKeys.count, 2)
        }

        function test_firstRunOffersTheFirstKey() {
            tryVerify(() => emptyDashboard.keys.loaded, 5000)
            compare(emptyDashboard.keys.count, 0)
            const table = findChild(firstRun, "keysTable")
            verify(table)
            compare(table.visible, false)
        }
    }
}
