import SafeIO

/// Text for HTML: every string that reaches a page passes through `escape` (model and
/// sample names and error messages may echo what a client sent).
enum HTML {
    static func escape(_ s: String) -> String { XMLEscape.text(s) }

    /// A `data:` URI of `text` (percent-encoded UTF-8), for downloads without files.
    static func dataURI(_ text: String, type: String) -> String {
        var out = "data:\(type);charset=utf-8,"
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// The page frame: title, the one small style sheet, body.
    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:78em;padding:0 1em;color:#222}
        h1{font-size:1.5em}h2{font-size:1.25em;margin-top:1.6em}h3{font-size:1.05em}
        table{border-collapse:collapse;font-size:.9em}th,td{padding:.2em .6em;border-bottom:1px solid #ddd}
        td.n{text-align:right;font-variant-numeric:tabular-nums}th{text-align:left;background:#f3f3f3}
        .cols{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}.col{flex:1 1 30em;min-width:0}
        .pass{color:#075}.fail{color:#b00}.note{color:#555}.warn{color:#a50}.error{color:#b00;font-weight:bold}
        textarea{width:100%;font-family:monospace}fieldset{margin:.8em 0;border:1px solid #ccc}
        svg{max-width:100%;height:auto}a.dl{margin-right:1em}
        </style></head><body>
        \(body)
        </body></html>
        """
    }
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
