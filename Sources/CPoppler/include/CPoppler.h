/* poppler-glib (and the cairo and GLib calls it needs), loaded with dlopen on the first PDF rather than linked:
   linking it made every kiln-pipe command load ~40 more shared libraries (cairo, X11, GIO, NSS…) at start, about
   35 ms before `main`. The declarations below mirror the system headers for exactly the calls kiln-pipe makes. */
#ifndef KILN_PIPE_CPOPPLER_H
#define KILN_PIPE_CPOPPLER_H

#include <stdint.h>

typedef struct _PopplerDocument PopplerDocument;
typedef struct _PopplerPage PopplerPage;
typedef struct _cairo cairo_t;
typedef struct _cairo_surface cairo_surface_t;

/* GLib's GError, field for field. */
typedef struct {
    uint32_t domain;
    int code;
    char *message;
} GError;

enum { POPPLER_ERROR_ENCRYPTED = 1 };
enum { CAIRO_FORMAT_RGB24 = 1 };
enum { CAIRO_STATUS_SUCCESS = 0, CAIRO_STATUS_WRITE_ERROR = 11 };

typedef int (*kp_cairo_write_func)(void *closure, const unsigned char *data, unsigned int length);

/* Loads libpoppler-glib once (thread-safe). NULL when ready, else what went wrong (a static string). Every call
   below needs a successful load first. */
const char *kp_poppler_load(void);

char *kp_g_filename_to_uri(const char *filename, const char *hostname, GError **error);
void kp_g_free(void *memory);
void kp_g_error_free(GError *error);
void kp_g_object_unref(void *object);

PopplerDocument *kp_poppler_document_new_from_file(const char *uri, const char *password, GError **error);
int kp_poppler_document_get_n_pages(PopplerDocument *document);
PopplerPage *kp_poppler_document_get_page(PopplerDocument *document, int index);
char *kp_poppler_page_get_text(PopplerPage *page);
void kp_poppler_page_get_size(PopplerPage *page, double *width, double *height);
void kp_poppler_page_render(PopplerPage *page, cairo_t *cairo);

cairo_surface_t *kp_cairo_image_surface_create(int format, int width, int height);
void kp_cairo_surface_destroy(cairo_surface_t *surface);
cairo_t *kp_cairo_create(cairo_surface_t *surface);
void kp_cairo_set_source_rgb(cairo_t *cairo, double red, double green, double blue);
void kp_cairo_paint(cairo_t *cairo);
void kp_cairo_scale(cairo_t *cairo, double sx, double sy);
void kp_cairo_destroy(cairo_t *cairo);
int kp_cairo_surface_write_to_png_stream(cairo_surface_t *surface, kp_cairo_write_func write, void *closure);

#endif
