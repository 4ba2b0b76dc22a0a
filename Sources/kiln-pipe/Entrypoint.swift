import KilnCommands

@main
struct Entrypoint {
    static func main() async {
        Interrupts.receiveStopSignals()
        await KilnPipeMain.main()
    }
}
