import QtQuick
import QtQuick.Window
import QtTest
import Sluice.Dashboard
import Sluice.Ui

// The Keys page at the size it has in a 1280×800 window (1052×724 beside the page list): every
// column without scrolling sideways, rows with inline editors named by key and field, sorting
// by clicking or pressing Enter/Space on a caption, the user name/email dialog, the Tab order,
// search, and the first-run panel of an empty gateway.
Item {
    id: root
    width: 1052
    height: 724

    KeysPage {
        id: page
        anchors.fill: parent
        dashboard: testDashboard
    }
    KeysPage {
        id: firstRun
        visible: false
        width: 1052
        height: 724
        dashboard: emptyDashboard
    }

    // The rows in the order the table shows them, for tryCompare.
    property string shown: ""
    Timer { interval: 10; running: true; repeat: true; onTriggered: root.shown = testCase.shownPrefixes().join() }

    TestCase {
        id: testCase
        name: "KeysPage"
        when: windowShown

        function init() {
            tryCompare(testDashboard.keys, "count", 2, 5000)
        }
        function cleanup() {
            testSource.setEditError("")
            testDashboard.filteredKeys.sortBy("", false)
            page.userDialog.close()
        }
        function table() { return findChild(page, "keysTable") }
        // Prefixes of the rows in the order the table shows them.
        function shownPrefixes() {
            const out = []
            for (let i = 0; i < table().count; ++i) {
                const item = table().itemAtIndex(i)
                out.push(item ? item.prefix : "?")
            }
            return out
        }

        function test_everyColumnFitsA1280Window() {
            const table = findChild(page, "keysTable")
            tryCompare(table, "width", page.width)
            verify(table.contentWidth <= table.width,
                   "table " + table.contentWidth + " px in " + table.width + " px")
            // The last column (the row's menu) ends inside the page.
            const actions = findChild(page, "rowActions:sk-sluice-AAAA")
            verify(actions)
            const right = actions.mapToItem(page, actions.width, 0).x
            verify(right <= page.width, "actions end at " + right)
            verify(findChild(page, "sortHeader:status").mapToItem(page, 0, 0).x < page.width)
            // The limit editors are all there, in two lines.
            for (const f of ["requests_per_second", "burst", "requests_per_minute", "tokens_per_minute",
                             "monthly_requests", "monthly_tokens", "concurrent_requests"])
                verify(findChild(page, "limitField:sk-sluice-AAAA:" + f), f)
        }

        function test_rowsAndInlineEdit() {
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

        function test_sortByClickingACaption() {
            compare(shownPrefixes(), ["sk-sluice-BBBB", "sk-sluice-AAAA"])  // newest key first
            const usage = findChild(page, "sortHeader:usage")
            verify(usage)
            compare(usage.Accessible.name, "Sort by usage this month")
            mouseClick(usage)
            compare(testDashboard.filteredKeys.sortKey, "usage")
            compare(testDashboard.filteredKeys.descending, false)
            tryVerify(() => table().count === 2)
            compare(shownPrefixes(), ["sk-sluice-BBBB", "sk-sluice-AAAA"])  // 35 < 1,200
            compare(usage.text, "This month ▲")
            compare(usage.Accessible.name, "Sort by usage this month, ascending")
            mouseClick(usage)
            compare(testDashboard.filteredKeys.descending, true)
            tryCompare(usage, "text", "This month ▼")
            compare(usage.Accessible.name, "Sort by usage this month, descending")
            tryCompare(root, "shown", ["sk-sluice-AAAA", "sk-sluice-BBBB"].join())
            // One column at a time: the other captions have no arrow.
            compare(findChild(page, "sortHeader:keyName").text, "Key")
        }

        function test_sortFromTheKeyboard() {
            const keyName = findChild(page, "sortHeader:keyName")
            keyName.forceActiveFocus()
            verify(keyName.activeFocus, "a caption takes the focus")
            keyClick(Qt.Key_Space)
            compare(testDashboard.filteredKeys.sortKey, "keyName")
            tryVerify(() => shownPrefixes()[0] === "sk-sluice-BBBB")  // "ci" < "laptop"
            keyClick(Qt.Key_Return)
            compare(testDashboard.filteredKeys.descending, true)
            tryVerify(() => shownPrefixes()[0] === "sk-sluice-AAAA")
            compare(keyName.Accessible.name, "Sort by key name, descending")
            // Another column starts ascending.
            const rpm = findChild(page, "sortHeader:requests_per_minute")
            rpm.forceActiveFocus()
            keyClick(Qt.Key_Enter)
            compare(testDashboard.filteredKeys.sortKey, "requests_per_minute")
            compare(testDashboard.filteredKeys.descending, false)
            compare(rpm.Accessible.name, "Sort by requests per minute, ascending")
        }

        function test_userDialogValidatesCommitsAndCancels() {
            const dialog = page.userDialog
            mouseClick(findChild(page, "userButton:sk-sluice-AAAA"))
            tryCompare(dialog, "opened", true)
            compare(dialog.userName, "alice")
            const name = findChild(dialog.contentItem, "userNameField")
            const email = findChild(dialog.contentItem, "userEmailField")
            const save = findChild(dialog.contentItem, "userSaveButton")
            verify(name && email && save)
            compare(name.text, "alice")
            compare(email.text, "")
            // Nothing changed, or no name: nothing to save.
            compare(save.enabled, false)
            name.text = "  "
            compare(save.enabled, false)
            name.text = "alice"
            email.text = "not-an-email"
            verify(save.enabled)

            // Refused by the service: its words, the dialog stays open, the values too.
            const refusal = "email must look like name@example.com, got \"not-an-email\""
            testSource.setEditError(refusal)
            const before = testSource.editCount()
            mouseClick(save)
            tryCompare(dialog, "error", refusal)
            compare(testSource.editCount(), before + 1)
            compare(testSource.lastEdit().kind, 3)  // DashboardEdit::Kind::UpdateUser
            compare(testSource.lastEdit().target, "alice")
            compare(testSource.lastEdit().body.email, "not-an-email")
            compare(dialog.opened, true)
            verify(findChild(dialog.contentItem, "userDialogError").visible)
            compare(email.text, "not-an-email")

            // Saved: Enter in a field commits both values in one edit, and the dialog closes.
            testSource.setEditError("")
            name.text = "alicia"
            email.text = "alicia@example.com"
            email.forceActiveFocus()
            keyClick(Qt.Key_Return)
            tryCompare(dialog, "visible", false)
            compare(testSource.editCount(), before + 2)
            compare(testSource.lastEdit().target, "alice")
            compare(testSource.lastEdit().body.name, "alicia")
            compare(testSource.lastEdit().body.email, "alicia@example.com")

            // Cancel (Escape) submits nothing.
            page.editUser("alice", "")
            tryCompare(dialog, "opened", true)
            compare(dialog.error, "")
            name.text = "bob"
            keyClick(Qt.Key_Escape)
            tryCompare(dialog, "visible", false)
            compare(testSource.editCount(), before + 2)
        }

        function test_userDialogEditsTierAndLimits() {
            const dialog = page.userDialog
            // From the key row's user cell: the dialog carries the user's tier and own limits.
            mouseClick(findChild(page, "userButton:sk-sluice-AAAA"))
            tryCompare(dialog, "opened", true)
            const tier = findChild(dialog.contentItem, "userTierBox")
            const rps = findChild(dialog.contentItem, "userLimitField:requests_per_second")
            const rpm = findChild(dialog.contentItem, "userLimitField:requests_per_minute")
            verify(tier && rps && rpm)
            compare(tier.currentText, dialog.userTier)
            verify(dialog.userTier !== "")
            const before = testSource.editCount()

            // A limit: one edit of the user, on Enter.
            rps.forceActiveFocus()
            rps.text = "5"
            keyClick(Qt.Key_Return)
            tryCompare(rps, "ticket", -1)
            compare(testSource.editCount(), before + 1)
            compare(testSource.lastEdit().kind, 3)  // UpdateUser
            compare(testSource.lastEdit().target, "alice")
            compare(testSource.lastEdit().body.requests_per_second, 5)

            // A refused limit keeps the text and shows the service's message on the field.
            testSource.setEditError("requests_per_minute must be a non-negative integer, got -1")
            rpm.forceActiveFocus()
            rpm.text = "-1"
            keyClick(Qt.Key_Return)
            tryVerify(() => rpm.error !== "", 5000)
            compare(rpm.text, "-1")
            testSource.setEditError("")

            // The tier: saved when picked.
            const other = tier.model.find(n => n !== dialog.userTier)
            tier.currentIndex = tier.model.indexOf(other)
            tier.activated(tier.currentIndex)
            tryCompare(dialog, "tierTicket", -1)
            compare(testSource.lastEdit().kind, 3)
            compare(testSource.lastEdit().body.tier, other)
            compare(dialog.error, "")
            // Escape in a field reverts it first; the next one closes the dialog.
            rpm.forceActiveFocus()
            keyClick(Qt.Key_Escape)
            compare(rpm.error, "")
            keyClick(Qt.Key_Escape)
            tryCompare(dialog, "visible", false)
        }

        function test_tabOrder() {
            const search = findChild(page, "keysSearch")
            search.forceActiveFocus()
            const seen = []
            for (let i = 0; i < 24; ++i) {
                keyClick(Qt.Key_Tab)
                const item = root.Window.activeFocusItem
                // The table's stop is its current row (the list hands its focus to it).
                const isRow = item && item.parent === table().contentItem
                seen.push(isRow ? "keysRow" : (item ? item.objectName || String(item) : ""))
            }
            const expected = ["statusFilter", "tierFilter", "createKeyButton",
                              "sortHeader:user", "sortHeader:keyName", "sortHeader:prefix", "sortHeader:tier",
                              "sortHeader:requests_per_second", "sortHeader:burst",
                              "sortHeader:requests_per_minute", "sortHeader:tokens_per_minute",
                              "sortHeader:monthly_requests", "sortHeader:monthly_tokens",
                              "sortHeader:concurrent_requests", "sortHeader:usage",
                              "sortHeader:lastUsed", "sortHeader:status", "keysRow",
                              "userButton:sk-sluice-BBBB"]
            compare(seen.slice(0, expected.length), expected, "Tab order: " + seen.join(", "))
            // Then the first row's editors, left to right: its tier, its limits.
            const firstLimit = seen.indexOf("limitField:sk-sluice-BBBB:requests_per_second")
            verify(firstLimit > expected.length - 1, seen.join(", "))
            compare(seen[firstLimit + 1], "limitField:sk-sluice-BBBB:burst")
            // Shift+Tab goes back.
            findChild(page, "statusFilter").forceActiveFocus()
            keyClick(Qt.Key_Backtab, Qt.ShiftModifier)
            compare(root.Window.activeFocusItem.objectName, "keysSearch")
        }

        function test_search() {
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
