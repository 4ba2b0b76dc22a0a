/// Float vectors as stored in the index: unit length, little-endian Float32 blobs, compared by dot product
/// (= cosine similarity for unit vectors) in SIMD lanes.
package enum Vectors {
    package static func normalized(_ vector: [Float]) -> [Float] {
        let norm = dot(vector, vector).squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    package static func bytes(_ vector: [Float]) -> [UInt8] {
        vector.withUnsafeBytes { Array($0) }
    }

    package static func dot(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                dot(UnsafeRawBufferPointer(a), UnsafeRawBufferPointer(b), count: min(a.count, b.count))
            }
        }
    }

    /// Dot product of two Float32 buffers of `count` elements, 16 lanes at a time.
    package static func dot(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, count: Int) -> Float {
        var lanes = SIMD16<Float>()
        var index = 0
        while index + 16 <= count {
            let x = a.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            let y = b.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            lanes += x * y
            index += 16
        }
        var sum = lanes.sum()
        while index < count {
            sum +=
                a.loadUnaligned(fromByteOffset: index * 4, as: Float.self)
                * b.loadUnaligned(fromByteOffset: index * 4, as: Float.self)
            index += 1
        }
        return sum
    }
}
