import KilnCommands

@main
struct Entrypoint {
    static func main() async {
        await KilnPipeMain.main()
    }
}
