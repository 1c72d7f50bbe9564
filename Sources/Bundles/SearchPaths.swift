import Foundation

/// Where bundles and networks are looked for. Built once from the process
/// environment by the CLI (`SearchPaths.standard()`); tests build their own,
/// so nothing reads global state behind a caller's back.
public struct SearchPaths: Hashable, Sendable {
    /// Folders scanned for bundles, highest priority first. Each folder's
    /// subfolders holding a `manifest.json` are bundles (a folder that itself
    /// holds a `manifest.json` is one bundle).
    public var plugins: [String]
    /// Folders searched for `<name>.fml` when a manifest names a network, after the
    /// `Networks/` folder next to the bundle's plugin folder.
    public var networks: [String]

    public init(plugins: [String], networks: [String] = []) {
        self.plugins = plugins
        self.networks = networks
    }

    /// The standard search path:
    /// plugins: `$MLFLUX_PLUGIN_PATH` and `$MLFLUX_PLUGINS` (colon-separated), `./Plugins`, the
    /// user data folder (`$XDG_DATA_HOME/mlflux/plugins` or `~/.local/share/mlflux/plugins`; on
    /// macOS `~/Library/Application Support/mlflux/plugins`), then the plugins of the
    /// installation or repository the executable belongs to (`installedPluginFolder`), so that
    /// `mlflux` finds its bundles from any directory;
    /// networks: the nearest `Networks/` folder walking up from `currentDirectory`, then
    /// `$MLFLUX_NETWORK_PATH` (colon-separated).
    /// - Parameter executable: path of the running executable (`nil`: no installation folder).
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment,
                                currentDirectory: String = FileManager.default.currentDirectoryPath,
                                executable: String? = Bundle.main.executablePath) -> SearchPaths {
        func split(_ v: String?) -> [String] {
            (v ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        var plugins = split(environment["MLFLUX_PLUGIN_PATH"]) + split(environment["MLFLUX_PLUGINS"])
        plugins.append((currentDirectory as NSString).appendingPathComponent("Plugins"))
        plugins.append(userPluginFolder(environment: environment))
        if let installed = executable.flatMap(installedPluginFolder(executable:)) {
            let known = Set(plugins.map { BundlePath.canonical($0) ?? $0 })
            if !known.contains(BundlePath.canonical(installed) ?? installed) { plugins.append(installed) }
        }
        var networks: [String] = []
        if let repo = nearestNetworksFolder(from: currentDirectory) { networks.append(repo) }
        networks += split(environment["MLFLUX_NETWORK_PATH"])
        return SearchPaths(plugins: plugins, networks: networks)
    }

    /// The plugin folder of the installation or repository holding `executable` (symlinks
    /// resolved): `<prefix>/share/mlflux/plugins` for `<prefix>/bin/mlflux`, else the first
    /// `Plugins/` folder in the executable's folder or one of its four nearest ancestors (a
    /// repository's `.build/<triple>/release/mlflux`); `nil` when there is none.
    public static func installedPluginFolder(executable: String) -> String? {
        let fm = FileManager.default
        func isDir(_ p: String) -> Bool {
            var d: ObjCBool = false
            return fm.fileExists(atPath: p, isDirectory: &d) && d.boolValue
        }
        var dir = ((BundlePath.canonical(executable) ?? executable) as NSString).deletingLastPathComponent
        let share = (((dir as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("share/mlflux/plugins"))
        if (dir as NSString).lastPathComponent == "bin", isDir(share) { return share }
        for _ in 0..<5 {
            let candidate = (dir as NSString).appendingPathComponent("Plugins")
            if isDir(candidate) { return candidate }
            let parent = (dir as NSString).deletingLastPathComponent
            if parent == dir { break }
            dir = parent
        }
        return nil
    }

    /// The per-user plugin folder (it need not exist).
    public static func userPluginFolder(environment: [String: String]) -> String {
        let home = environment["HOME"] ?? NSHomeDirectory()
        #if os(macOS)
        return home + "/Library/Application Support/mlflux/plugins"
        #else
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg + "/mlflux/plugins" }
        return home + "/.local/share/mlflux/plugins"
        #endif
    }

    /// The first `Networks/` folder found in `directory` or one of its ancestors.
    public static func nearestNetworksFolder(from directory: String) -> String? {
        var dir = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = dir.appendingPathComponent("Networks").path
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), isDir.boolValue {
                return candidate
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return nil }
            dir = parent
        }
    }
}
