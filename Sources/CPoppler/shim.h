#include <glib.h>
#include <glib-object.h>
#include <poppler.h>
