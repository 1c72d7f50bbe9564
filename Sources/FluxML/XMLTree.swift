internal import CLibXML2

/// A plain Swift copy of the parts of a libxml2 element tree that the FluxML
/// reader needs (local names, namespaces, attributes, text, line numbers).
struct XMLElement: Sendable {
    var name: String
    var namespace: String?
    var attributes: [(name: String, value: String)]
    var children: [XMLElement]
    /// Concatenated text and CDATA content directly inside this element.
    var text: String
    var line: Int?

    func attribute(_ n: String) -> String? { attributes.first { $0.name == n }?.value }

    /// Child elements with local name `n` in the FluxML namespace or in no namespace.
    func elements(_ n: String) -> [XMLElement] {
        children.filter { $0.name == n && $0.isFluxML }
    }

    func element(_ n: String) -> XMLElement? { elements(n).first }

    var isFluxML: Bool { namespace == nil || namespace == FluxMLNamespace.uri }
}

enum FluxMLNamespace {
    static let uri = "http://www.13cflux.net/fluxml"
}

/// libxml2 is initialised once per process (`xmlInitParser` is not safe to race).
private let libxmlInitialised: Bool = {
    xmlInitParser()
    return true
}()

/// First error reported by libxml2 for one parse.
private final class ErrorBox {
    var line: Int?
    var message: String?
}

private func captureError(_ userData: UnsafeMutableRawPointer?, _ error: xmlErrorPtr?) {
    guard let userData, let error else { return }
    let ctxt = userData.assumingMemoryBound(to: xmlParserCtxt.self)
    guard let priv = ctxt.pointee._private else { return }
    let box = Unmanaged<ErrorBox>.fromOpaque(priv).takeUnretainedValue()
    guard box.message == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    box.line = error.pointee.line > 0 ? Int(error.pointee.line) : nil
    box.message = error.pointee.message.map { String(cString: $0).trimmed() } ?? "error \(error.pointee.code)"
}

enum XMLTreeParser {
    /// Parses `text` with libxml2: no network (`XML_PARSE_NONET`), no DTD loading, no
    /// entity substitution, no XInclude; errors are captured, not printed. Rejects
    /// documents whose DOCTYPE declares entities or names an external DTD.
    static func parse(_ text: String, fileName: String) throws -> XMLElement {
        _ = libxmlInitialised
        // Refuse entity declarations before libxml2 sees them: nothing is ever resolved.
        if let line = lineOfFirst("<!ENTITY", in: text) {
            throw FluxMLError.forbiddenDoctype(
                file: fileName, line: line,
                reason: "entity declarations are not allowed in FluxML (no DTDs, no external entities)")
        }
        // Count elements before libxml2 builds a tree: 8 MB of `<a/>` would otherwise cost ~600 MB.
        var elements = 0
        for b in text.utf8 where b == UInt8(ascii: "<") {
            elements += 1
            if elements > FluxMLReader.Limits.elements {
                throw FluxMLError.malformedXML(file: fileName, line: nil,
                                               message: "more than \(FluxMLReader.Limits.elements) elements; a FluxML network is far smaller")
            }
        }
        guard text.utf8.count <= FluxMLReader.Limits.fileBytes else {
            throw FluxMLError.malformedXML(file: fileName, line: nil,
                                           message: "larger than \(FluxMLReader.Limits.fileBytes) bytes; a FluxML network is far smaller")
        }
        guard let ctxt = xmlNewParserCtxt() else {
            throw FluxMLError.malformedXML(file: fileName, line: nil, message: "cannot create a libxml2 parser")
        }
        defer { xmlFreeParserCtxt(ctxt) }
        // Capture the first error through the context's structured error handler (no
        // global state, nothing printed); the handler finds the box via `_private`.
        let box = ErrorBox()
        let unmanaged = Unmanaged.passRetained(box)
        defer { unmanaged.release() }
        ctxt.pointee._private = unmanaged.toOpaque()
        ctxt.pointee.sax.pointee.serror = captureError
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue
                            | XML_PARSE_NOWARNING.rawValue | XML_PARSE_BIG_LINES.rawValue
                            | XML_PARSE_NOCDATA.rawValue)
        let bytes = Array(text.utf8)
        let doc: xmlDocPtr? = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buf.count, 1)) { p in
                xmlCtxtReadMemory(ctxt, p, Int32(buf.count), fileName, "UTF-8", options)
            }
        }
        guard let doc, ctxt.pointee.wellFormed != 0 else {
            if let doc { xmlFreeDoc(doc) }
            var line: Int? = box.line
            var message = box.message ?? "document is not well-formed"
            if box.message == nil, let err = xmlCtxtGetLastError(UnsafeMutableRawPointer(ctxt)) {
                if err.pointee.line > 0 { line = Int(err.pointee.line) }
                if let m = err.pointee.message {
                    message = String(cString: m).trimmed()
                }
            }
            throw FluxMLError.malformedXML(file: fileName, line: line, message: message)
        }
        defer { xmlFreeDoc(doc) }
        for dtd in [doc.pointee.intSubset, doc.pointee.extSubset] {
            guard let dtd else { continue }
            let line = lineOfFirst("<!DOCTYPE", in: text)
            if dtd.pointee.ExternalID != nil || dtd.pointee.SystemID != nil {
                throw FluxMLError.forbiddenDoctype(file: fileName, line: line,
                                                   reason: "external DTDs are not allowed in FluxML")
            }
            if dtd.pointee.entities != nil || dtd.pointee.pentities != nil {
                throw FluxMLError.forbiddenDoctype(file: fileName, line: line,
                                                   reason: "entity declarations are not allowed in FluxML")
            }
        }
        guard let root = xmlDocGetRootElement(doc) else {
            throw FluxMLError.malformedXML(file: fileName, line: nil, message: "document has no root element")
        }
        return try convert(root, fileName: fileName)
    }

    /// 1-based line of the first occurrence of the ASCII `needle` in `text`.
    static func lineOfFirst(_ needle: String, in text: String) -> Int? {
        let n = Array(needle.utf8), t = Array(text.utf8)
        guard t.count >= n.count else { return nil }
        var line = 1
        for i in 0...(t.count - n.count) {
            if t[i] == UInt8(ascii: "\n") { line += 1 }
            if t[i] == n[0] && Array(t[i..<(i + n.count)]) == n { return line }
        }
        return nil
    }

    private static func string(_ p: UnsafePointer<xmlChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p)
    }

    private static func convert(_ node: xmlNodePtr, fileName: String) throws -> XMLElement {
        var attrs: [(name: String, value: String)] = []
        var a = node.pointee.properties
        while let attr = a {
            var value = ""
            var c = attr.pointee.children
            while let child = c {
                if child.pointee.type == XML_TEXT_NODE { value += string(child.pointee.content) }
                c = child.pointee.next
            }
            attrs.append((string(attr.pointee.name), value))
            a = attr.pointee.next
        }
        var children: [XMLElement] = []
        var text = ""
        var c = node.pointee.children
        while let child = c {
            switch child.pointee.type {
            case XML_ELEMENT_NODE:
                children.append(try convert(child, fileName: fileName))
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                text += string(child.pointee.content)
            case XML_ENTITY_REF_NODE:
                let l = xmlGetLineNo(child)
                throw FluxMLError.forbiddenDoctype(file: fileName, line: l > 0 ? Int(l) : nil,
                                                   reason: "entity reference '&\(string(child.pointee.name));' is not allowed")
            default:
                break
            }
            c = child.pointee.next
        }
        let line = xmlGetLineNo(node)
        let ns = node.pointee.ns.flatMap { $0.pointee.href }.map { String(cString: $0) }
        return XMLElement(name: string(node.pointee.name), namespace: ns, attributes: attrs,
                          children: children, text: text, line: line > 0 ? Int(line) : nil)
    }
}

extension String {
    /// The string without leading and trailing whitespace (including newlines).
    func trimmed() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
