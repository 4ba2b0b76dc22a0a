import CPoppler
import Foundation

/// Renders PDF pages to PNG (poppler through cairo) for a vision model to transcribe: scanned pages have no
/// text layer to extract.
package enum PDFPageRenderer {
    /// The PNG bytes of 1-based `page` at `dpi`, on a white background.
    package static func png(path: String, page number: Int, dpi: Double = 150) throws(ExtractionError) -> [UInt8] {
        let document = try PopplerDocument(path: path)
        let png = try document.withPage(number - 1) { page throws(ExtractionError) in
            try render(page, number: number, dpi: dpi)
        }
        guard let png else { throw ExtractionError("the PDF has no page \(number)") }
        return png
    }

    private static func render(_ page: OpaquePointer, number: Int, dpi: Double) throws(ExtractionError) -> [UInt8] {
        var width = 0.0
        var height = 0.0
        kp_poppler_page_get_size(page, &width, &height)
        let scale = dpi / 72
        // Cap the size: vision models downscale anyway, and a poster-sized page must not take gigabytes.
        let pixels = min(max(1, width * scale), 4000) * min(max(1, height * scale), 4000)
        let fit = pixels > 16_000_000 ? (16_000_000 / pixels).squareRoot() : 1
        guard
            let surface = kp_cairo_image_surface_create(
                Int32(CAIRO_FORMAT_RGB24), Int32(min(width * scale * fit, 4000)), Int32(min(height * scale * fit, 4000))
            )
        else { throw ExtractionError("cannot allocate an image for page \(number)") }
        defer { kp_cairo_surface_destroy(surface) }
        guard let context = kp_cairo_create(surface) else { throw ExtractionError("cannot draw page \(number)") }
        kp_cairo_set_source_rgb(context, 1, 1, 1)
        kp_cairo_paint(context)
        kp_cairo_scale(context, scale * fit, scale * fit)
        kp_poppler_page_render(page, context)
        kp_cairo_destroy(context)
        let sink = PNGSink()
        let status = kp_cairo_surface_write_to_png_stream(
            surface,
            { closure, data, length in
                guard let closure, let data else { return Int32(CAIRO_STATUS_WRITE_ERROR) }
                Unmanaged<PNGSink>.fromOpaque(closure).takeUnretainedValue().bytes.append(
                    contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
                return Int32(CAIRO_STATUS_SUCCESS)
            }, Unmanaged.passUnretained(sink).toOpaque())
        guard status == Int32(CAIRO_STATUS_SUCCESS) else {
            throw ExtractionError("cannot encode page \(number) as PNG")
        }
        return sink.bytes
    }

    /// Collects cairo's PNG output.
    private final class PNGSink {
        var bytes: [UInt8] = []
    }
}
