/// "1 example", "2 examples": a count with its noun in the right number (regular English plurals, or `plural`).
package func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
}
