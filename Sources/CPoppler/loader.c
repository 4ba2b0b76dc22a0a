#include "CPoppler.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

/* One pointer per call, resolved from libpoppler-glib and the libraries it depends on (cairo, GObject, GLib). */
static struct {
    char *(*g_filename_to_uri)(const char *, const char *, GError **);
    void (*g_free)(void *);
    void (*g_error_free)(GError *);
    void (*g_object_unref)(void *);
    PopplerDocument *(*poppler_document_new_from_file)(const char *, const char *, GError **);
    int (*poppler_document_get_n_pages)(PopplerDocument *);
    PopplerPage *(*poppler_document_get_page)(PopplerDocument *, int);
    char *(*poppler_page_get_text)(PopplerPage *);
    void (*poppler_page_get_size)(PopplerPage *, double *, double *);
    void (*poppler_page_render)(PopplerPage *, cairo_t *);
    cairo_surface_t *(*cairo_image_surface_create)(int, int, int);
    void (*cairo_surface_destroy)(cairo_surface_t *);
    cairo_t *(*cairo_create)(cairo_surface_t *);
    void (*cairo_set_source_rgb)(cairo_t *, double, double, double);
    void (*cairo_paint)(cairo_t *);
    void (*cairo_scale)(cairo_t *, double, double);
    void (*cairo_destroy)(cairo_t *);
    int (*cairo_surface_write_to_png_stream)(cairo_surface_t *, kp_cairo_write_func, void *);
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *failure = "poppler-glib was not loaded";

#define RESOLVE(name)                                            \
    do {                                                         \
        *(void **)(&api.name) = dlsym(library, #name);           \
        if (api.name == NULL) {                                  \
            failure = "libpoppler-glib.so.8 lacks " #name;       \
            return;                                              \
        }                                                        \
    } while (0)

static void load(void) {
    void *library = dlopen("libpoppler-glib.so.8", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        failure = "libpoppler-glib.so.8 is not installed (Debian: apt-get install libpoppler-glib8)";
        return;
    }
    RESOLVE(g_filename_to_uri);
    RESOLVE(g_free);
    RESOLVE(g_error_free);
    RESOLVE(g_object_unref);
    RESOLVE(poppler_document_new_from_file);
    RESOLVE(poppler_document_get_n_pages);
    RESOLVE(poppler_document_get_page);
    RESOLVE(poppler_page_get_text);
    RESOLVE(poppler_page_get_size);
    RESOLVE(poppler_page_render);
    RESOLVE(cairo_image_surface_create);
    RESOLVE(cairo_surface_destroy);
    RESOLVE(cairo_create);
    RESOLVE(cairo_set_source_rgb);
    RESOLVE(cairo_paint);
    RESOLVE(cairo_scale);
    RESOLVE(cairo_destroy);
    RESOLVE(cairo_surface_write_to_png_stream);
    failure = NULL;
}

const char *kp_poppler_load(void) {
    pthread_once(&once, load);
    return failure;
}

char *kp_g_filename_to_uri(const char *filename, const char *hostname, GError **error) {
    return api.g_filename_to_uri(filename, hostname, error);
}
void kp_g_free(void *memory) { api.g_free(memory); }
void kp_g_error_free(GError *error) { api.g_error_free(error); }
void kp_g_object_unref(void *object) { api.g_object_unref(object); }

PopplerDocument *kp_poppler_document_new_from_file(const char *uri, const char *password, GError **error) {
    return api.poppler_document_new_from_file(uri, password, error);
}
int kp_poppler_document_get_n_pages(PopplerDocument *document) { return api.poppler_document_get_n_pages(document); }
PopplerPage *kp_poppler_document_get_page(PopplerDocument *document, int index) {
    return api.poppler_document_get_page(document, index);
}
char *kp_poppler_page_get_text(PopplerPage *page) { return api.poppler_page_get_text(page); }
void kp_poppler_page_get_size(PopplerPage *page, double *width, double *height) {
    api.poppler_page_get_size(page, width, height);
}
void kp_poppler_page_render(PopplerPage *page, cairo_t *cairo) { api.poppler_page_render(page, cairo); }

cairo_surface_t *kp_cairo_image_surface_create(int format, int width, int height) {
    return api.cairo_image_surface_create(format, width, height);
}
void kp_cairo_surface_destroy(cairo_surface_t *surface) { api.cairo_surface_destroy(surface); }
cairo_t *kp_cairo_create(cairo_surface_t *surface) { return api.cairo_create(surface); }
void kp_cairo_set_source_rgb(cairo_t *cairo, double red, double green, double blue) {
    api.cairo_set_source_rgb(cairo, red, green, blue);
}
void kp_cairo_paint(cairo_t *cairo) { api.cairo_paint(cairo); }
void kp_cairo_scale(cairo_t *cairo, double sx, double sy) { api.cairo_scale(cairo, sx, sy); }
void kp_cairo_destroy(cairo_t *cairo) { api.cairo_destroy(cairo); }
int kp_cairo_surface_write_to_png_stream(cairo_surface_t *surface, kp_cairo_write_func write, void *closure) {
    return api.cairo_surface_write_to_png_stream(surface, write, closure);
}
