extension Double {
    /// Whole numbers without a fraction (`4`, not `4.0`), others as Swift prints them: for messages and labels.
    package var compactDescription: String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}
