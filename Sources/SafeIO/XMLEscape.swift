/// Text made safe inside XML (FluxML, SVG) and HTML element content and quoted attribute
/// values: `&`, `<`, `>`, `"` and `'` become entities, everything else stays.
public enum XMLEscape {
    public static func text(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
