import Foundation

/// Bytes a function's code or a layer takes once unzipped: the regular files under a directory,
/// or the uncompressed sizes a .zip's central directory lists (read without extracting).
///
/// Used for Lambda's 250 MB limit on function plus layers. Symlinks count as nothing and are not
/// followed. Throws ``Failure`` for an unreadable path or a malformed .zip.
public enum UnzippedSize {
    /// Why a size could not be measured; `description` is one line.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Size of `path`: a directory or a .zip file. Stops counting once past `limit`.
    public static func of(_ path: String, limit: Int = .max) throws(Failure) -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Failure(description: "\(path) does not exist")
        }
        return isDirectory.boolValue ? directory(path, limit: limit) : try zip(path)
    }

    static func directory(_ path: String, limit: Int) -> Int {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total = 0
        while let relative = walker.nextObject() as? String {
            var info = stat()
            guard lstat(path + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            total += Int(info.st_size)
            if total > limit { return total }
        }
        return total
    }

    /// Sums the central directory's uncompressed sizes (ZIP64 sizes from the 0x0001 extra field).
    static func zip(_ path: String) throws(Failure) -> Int {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(path)")
        }
        func malformed(_ why: String) -> Failure { Failure(description: "\(path) is not a readable .zip: \(why)") }
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }

        // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
        guard bytes.count >= 22 else { throw malformed("too short") }
        var end = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65535)
        while end >= lowest, u32(end) != 0x0605_4b50 { end -= 1 }
        guard end >= lowest else { throw malformed("no end of central directory") }
        var count = u16(end + 10)
        var offset = u32(end + 16)
        if count == 0xFFFF || offset == 0xFFFF_FFFF {
            // ZIP64: the locator just before points at the ZIP64 end record with the real values.
            let locator = end - 20
            guard locator >= 0, u32(locator) == 0x0706_4b50 else { throw malformed("no ZIP64 locator") }
            let record = u64(locator + 8)
            guard record + 56 <= bytes.count, u32(record) == 0x0606_4b50 else { throw malformed("bad ZIP64 record") }
            count = u64(record + 32)
            offset = u64(record + 48)
        }
        var total = 0
        var entry = offset
        for _ in 0..<count {
            guard entry + 46 <= bytes.count, u32(entry) == 0x0201_4b50 else { throw malformed("bad central directory") }
            var size = u32(entry + 24)
            let nameLength = u16(entry + 28)
            let extraLength = u16(entry + 30)
            let commentLength = u16(entry + 32)
            if size == 0xFFFF_FFFF {
                var field = entry + 46 + nameLength
                let fieldsEnd = field + extraLength
                while field + 4 <= fieldsEnd, field + 4 <= bytes.count {
                    if u16(field) == 0x0001, field + 12 <= bytes.count {
                        size = u64(field + 4)
                        break
                    }
                    field += 4 + u16(field + 2)
                }
            }
            total += size
            entry += 46 + nameLength + extraLength + commentLength
        }
        return total
    }
}
