/* npv-file.c: detecting what a file holds and opening its members
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-file"

#include "npv-file.h"

#include <string.h>

#include <zlib.h>

#include "npv-error.h"
#include "npv-guard.h"
#include "npv-inflate.h"
#include "npv-pickle.h"
#include "npv-pyobject.h"
#include "npv-pyrecord.h"
#include "npv-zip.h"

/* Object arrays are rebuilt in memory from their pickle: refuse members
 * whose pickle is larger than this rather than fill the memory. */
#define MAX_OBJECT_PICKLE ((guint64) 1 << 30)
/* Memory for the objects a pickle builds (not the array data it holds,
 * which stays in the file): a pickle of millions of small objects is
 * refused past this, so that opening a file never takes more than about
 * a quarter of a gigabyte. */
#define PICKLE_TREE_BUDGET ((gsize) 160 << 20)

/* Output between restart points of compressed members. */
#define INFLATE_SPAN (1 << 20)

/* Enough inflated bytes for any .npy header numpy writes below format
 * 2.0's limits; larger headers are read in a second, bigger attempt. */
#define HEADER_PREFIX (64 * 1024)

struct _NpvFile
{
  NpvSource *source;
  NpvFileFormat format;
  gboolean in_memory;
  GPtrArray *members;
  /* name and archive path -> member, for archives of many members */
  GHashTable *by_name;
  /* compressed member -> its NpvInflateIndex, made on first use */
  GMutex index_lock;
  GHashTable *indexes;
  gboolean latin1;
  /* pickle files: the root of the tree the members point into */
  NpvPyObject *pickle;
  NpvNode *tree;
  /* while an archive is opened: header bytes -> NpvNpyHeader, so that the
   * many members of one dtype and shape share one parse and one dtype */
  GHashTable *header_cache;
};

static void
node_free (NpvNode *node)
{
  g_free (node->name);
  g_free (node->path);
  g_clear_pointer (&node->children, g_ptr_array_unref);
  g_free (node);
}

static NpvNode *
node_add_child (NpvNode    *parent,
                const char *name,
                const char *path)
{
  NpvNode *node = g_new0 (NpvNode, 1);

  node->name = g_strdup (name);
  node->path = g_strdup (path);
  if (parent->children == NULL)
    parent->children = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  g_ptr_array_add (parent->children, node);
  return node;
}

/* Folders are found by path in @folders, so that building the tree costs
 * one hash lookup per part, however many members there are. */
static void
build_tree (NpvFile *file)
{
  g_autoptr(GHashTable) folders = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GString) path = g_string_new (NULL);

  file->tree = g_new0 (NpvNode, 1);
  file->tree->name = g_strdup ("");
  file->tree->path = g_strdup ("");

  for (guint i = 0; i < file->members->len; i++)
    {
      const NpvMember *member = g_ptr_array_index (file->members, i);
      g_auto(GStrv) parts = g_strsplit (member->name, "/", -1);
      g_autoptr(GPtrArray) segments = g_ptr_array_new ();
      NpvNode *parent = file->tree;
      NpvNode *node;

      if (member->name[0] == '/')
        g_ptr_array_add (segments, (gpointer) "/");
      for (guint k = 0; parts[k] != NULL; k++)
        if (parts[k][0] != '\0')
          g_ptr_array_add (segments, parts[k]);
      if (segments->len == 0)
        g_ptr_array_add (segments, member->name);

      g_string_truncate (path, 0);
      for (guint k = 0; k < segments->len; k++)
        {
          const char *segment = g_ptr_array_index (segments, k);

          if (k > 0 && !(k == 1 && strcmp (path->str, "/") == 0))
            g_string_append_c (path, '/');
          g_string_append (path, segment);
          if (k + 1 == segments->len)
            break;
          node = g_hash_table_lookup (folders, path->str);
          if (node == NULL)
            {
              node = node_add_child (parent, segment, path->str);
              g_hash_table_insert (folders, node->path, node);
            }
          parent = node;
        }

      /* A folder made by earlier members ("a/x" before "a") becomes it. */
      node = g_hash_table_lookup (folders, path->str);
      if (node == NULL || node->member != NULL)
        node = node_add_child (parent, g_ptr_array_index (segments, segments->len - 1), path->str);
      node->member = member;
      /* Later members inside it ("a/x" after "a") find it as a folder. */
      if (!g_hash_table_contains (folders, node->path))
        g_hash_table_insert (folders, node->path, node);
    }
}

const NpvNode *
npv_file_get_tree (NpvFile *file)
{
  return file->tree;
}

static void
member_free (NpvMember *member)
{
  g_free (member->name);
  g_free (member->path);
  npv_npy_header_clear (&member->header);
  g_clear_error (&member->error);
  g_free (member);
}

static void
file_clear (gpointer data)
{
  NpvFile *file = data;

  g_clear_pointer (&file->by_name, g_hash_table_unref);
  g_clear_pointer (&file->header_cache, g_hash_table_unref);
  g_clear_pointer (&file->indexes, g_hash_table_unref);
  g_mutex_clear (&file->index_lock);
  g_clear_pointer (&file->members, g_ptr_array_unref);
  g_clear_pointer (&file->pickle, npv_py_object_unref);
  g_clear_pointer (&file->tree, node_free);
  g_clear_pointer (&file->source, npv_source_unref);
}

NpvFile *
npv_file_ref (NpvFile *file)
{
  return g_atomic_rc_box_acquire (file);
}

void
npv_file_unref (NpvFile *file)
{
  g_atomic_rc_box_release_full (file, file_clear);
}

const char *
npv_file_format_to_string (NpvFileFormat format)
{
  switch (format)
    {
    case NPV_FILE_FORMAT_NPY: return "npy";
    case NPV_FILE_FORMAT_NPZ: return "npz";
    case NPV_FILE_FORMAT_NPY_GZ: return "npy.gz";
    case NPV_FILE_FORMAT_PICKLE: return "pickle";
    default: return "?";
    }
}

const char *
npv_storage_to_string (NpvStorage storage)
{
  switch (storage)
    {
    case NPV_STORAGE_MAPPED: return "mapped";
    case NPV_STORAGE_STORED: return "stored";
    case NPV_STORAGE_DEFLATE: return "deflate";
    case NPV_STORAGE_GZIP: return "gzip";
    case NPV_STORAGE_PICKLE: return "pickle";
    case NPV_STORAGE_MEMORY: return "memory";
    default: return "?";
    }
}

static gboolean
open_npy (NpvFile  *file,
          GError  **error)
{
  NpvMember *member = g_new0 (NpvMember, 1);
  const char *name = npv_source_get_name (file->source);

  if (!npv_npy_header_parse (&member->header,
                             npv_source_get_data (file->source),
                             npv_source_get_size (file->source),
                             name, error))
    {
      member_free (member);
      return FALSE;
    }
  if (!npv_npy_header_check_size (&member->header, npv_source_get_size (file->source), name, error))
    {
      member_free (member);
      return FALSE;
    }
  member->name = g_strdup ("");
  member->path = g_strdup ("");
  member->kind = NPV_MEMBER_ARRAY;
  member->in_place = !npv_dtype_has_object (member->header.dtype);
  member->size = npv_source_get_size (file->source);
  member->compressed_size = member->size;
  member->storage = file->in_memory ? NPV_STORAGE_MEMORY : NPV_STORAGE_MAPPED;
  g_ptr_array_add (file->members, member);
  return TRUE;
}

/* The first @want bytes of a deflated member, inflated; fewer if the
 * member is shorter. Only the start is inflated, never the whole. */
static GBytes *
inflate_prefix (NpvSource          *source,
                const NpvZipEntry  *entry,
                gsize               want,
                GError            **error)
{
  const guint8 *data = npv_source_get_data (source) + entry->data_offset;
  g_autofree guint8 *out = g_malloc (want);
  z_stream z = { 0, };
  int status;

  if (inflateInit2 (&z, -MAX_WBITS) != Z_OK)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FAILED, "zlib cannot start");
      return NULL;
    }
  z.next_out = out;
  z.avail_out = want;
  /* Feed in pieces: avail_in is 32 bits and members may be larger. */
  for (guint64 fed = 0; z.avail_out > 0;)
    {
      guint64 chunk = MIN (entry->compressed_size - fed, (guint64) 1 << 20);

      z.next_in = (Bytef *) data + fed;
      z.avail_in = chunk;
      status = inflate (&z, Z_NO_FLUSH);
      fed += chunk - z.avail_in;
      if (status == Z_STREAM_END)
        break;
      if (status != Z_OK && status != Z_BUF_ERROR)
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                       "%s: member “%s”: the compressed data is damaged (%s)",
                       npv_source_get_name (source), entry->name, z.msg ? z.msg : "zlib error");
          inflateEnd (&z);
          return NULL;
        }
      if (fed == entry->compressed_size && z.avail_in == 0 && status == Z_BUF_ERROR)
        break;
    }
  inflateEnd (&z);
  return g_bytes_new_take (g_steal_pointer (&out), want - z.avail_out);
}

static void
header_copy (NpvNpyHeader       *dest,
             const NpvNpyHeader *src)
{
  *dest = *src;
  dest->dtype = npv_dtype_ref (src->dtype);
  dest->shape = g_memdup2 (src->shape, MAX (src->ndim, 1) * sizeof (gint64));
}

static void
header_free (NpvNpyHeader *header)
{
  npv_npy_header_clear (header);
  g_free (header);
}

/* npv_npy_header_parse(), or a copy of an earlier member's header when
 * its bytes are the same (errors are not kept: they name the member). */
static gboolean
header_parse_cached (NpvFile       *file,
                     NpvNpyHeader  *header,
                     const guint8  *data,
                     gsize          size,
                     const char    *where,
                     GError       **error)
{
  guint64 len = file->header_cache != NULL ? npv_npy_header_length (data, size) : 0;

  if (len > 0 && len <= size && len <= 4096)
    {
      g_autoptr(GBytes) key = g_bytes_new_static (data, len);
      const NpvNpyHeader *known = g_hash_table_lookup (file->header_cache, key);
      NpvNpyHeader *copy;

      if (known != NULL)
        {
          header_copy (header, known);
          return TRUE;
        }
      if (!npv_npy_header_parse (header, data, size, where, error))
        return FALSE;
      copy = g_new (NpvNpyHeader, 1);
      header_copy (copy, header);
      g_hash_table_insert (file->header_cache, g_bytes_new (data, len), copy);
      return TRUE;
    }
  return npv_npy_header_parse (header, data, size, where, error);
}

static NpvMember *
npz_member_new (NpvFile     *file,
                NpvZipEntry *entry)
{
  NpvSource *source = file->source;
  const char *path = npv_source_get_name (source);
  NpvMember *member = g_new0 (NpvMember, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *where = NULL;

  member->path = g_strdup (entry->name);
  member->name = g_str_has_suffix (entry->name, ".npy")
                 ? g_strndup (entry->name, strlen (entry->name) - 4)
                 : g_strdup (entry->name);
  member->size = entry->uncompressed_size;
  member->compressed_size = entry->compressed_size;
  member->crc32 = entry->crc32;
  member->storage = entry->method == NPV_ZIP_STORED ? NPV_STORAGE_STORED : NPV_STORAGE_DEFLATE;
  member->kind = g_str_has_suffix (entry->name, ".npy") ? NPV_MEMBER_ARRAY : NPV_MEMBER_RAW;

  if (!npv_zip_entry_locate (source, entry, &error))
    goto broken;
  member->offset = entry->data_offset;
  if (member->kind == NPV_MEMBER_RAW)
    return member;

  where = g_strdup_printf ("%s: member “%s”", path, member->path);

  if (entry->method == NPV_ZIP_STORED)
    {
      if (entry->uncompressed_size != entry->compressed_size)
        {
          g_set_error (&error, NPV_ERROR, NPV_ERROR_FORMAT,
                       "%s is stored uncompressed but its sizes differ (%" G_GUINT64_FORMAT
                       " and %" G_GUINT64_FORMAT ")", where, entry->uncompressed_size,
                       entry->compressed_size);
          goto broken;
        }
      if (!header_parse_cached (file, &member->header, npv_source_get_data (source) + entry->data_offset,
                                entry->uncompressed_size, where, &error) ||
          !npv_npy_header_check_size (&member->header, entry->uncompressed_size, where, &error))
        goto broken;
      member->in_place = !npv_dtype_has_object (member->header.dtype);
      return member;
    }

  if (entry->method == NPV_ZIP_DEFLATED)
    {
      gsize want = HEADER_PREFIX;

      for (guint attempt = 0; attempt < 2; attempt++)
        {
          g_autoptr(GBytes) prefix = inflate_prefix (source, entry, want, &error);
          gsize len;
          const guint8 *bytes;

          if (prefix == NULL)
            goto broken;
          bytes = g_bytes_get_data (prefix, &len);
          if (header_parse_cached (file, &member->header, bytes, len, where, &error))
            {
              if (!npv_npy_header_check_size (&member->header, entry->uncompressed_size, where,
                                              &error))
                goto broken;
              return member;
            }
          /* A header longer than the prefix: once more with room for it. */
          if (attempt == 0 && g_error_matches (error, NPV_ERROR, NPV_ERROR_TRUNCATED) &&
              len == want && entry->uncompressed_size > want)
            {
              g_clear_error (&error);
              want = MIN (entry->uncompressed_size, (guint64) 16 << 20);
              continue;
            }
          goto broken;
        }
    }

  g_set_error (&error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
               "%s uses compression method %u; numpy writes only stored (0) and deflated (8)",
               where, entry->method);

broken:
  npv_npy_header_clear (&member->header);
  member->kind = NPV_MEMBER_BROKEN;
  member->error = g_steal_pointer (&error);
  return member;
}

/* Where a member's bytes lie in the archive: local header to data end. */
typedef struct
{
  guint64 start, end;
  NpvMember *member;
} Span;

static int
compare_spans (gconstpointer a,
               gconstpointer b)
{
  const Span *x = a, *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

static void
mark_overlapping (NpvFile   *file,
                  NpvMember *member,
                  NpvMember *other)
{
  if (member->kind == NPV_MEMBER_BROKEN)
    return;
  npv_npy_header_clear (&member->header);
  member->kind = NPV_MEMBER_BROKEN;
  member->error = g_error_new (NPV_ERROR, NPV_ERROR_FORMAT,
                               "%s: member “%s” shares its bytes with member “%s”: a damaged "
                               "archive or a zip bomb, not read (Python's zipfile refuses it too)",
                               npv_source_get_name (file->source), member->path, other->path);
}

/* Members whose bytes overlap are how a zip bomb multiplies one stream
 * many times over: both are refused, as Python's zipfile does. */
static void
refuse_overlaps (NpvFile *file,
                 GArray  *spans)
{
  g_array_sort (spans, compare_spans);
  for (guint i = 1; i < spans->len; i++)
    {
      Span *prev = &g_array_index (spans, Span, i - 1);
      Span *span = &g_array_index (spans, Span, i);

      if (span->start < prev->end)
        {
          mark_overlapping (file, span->member, prev->member);
          mark_overlapping (file, prev->member, span->member);
          /* The longer reach covers what follows. */
          if (span->end < prev->end)
            *span = (Span) { span->start, prev->end, prev->member };
        }
    }
}

static gboolean
open_npz (NpvFile  *file,
          GError  **error)
{
  g_autoptr(GArray) entries = npv_zip_read_directory (file->source, error);
  g_autoptr(GArray) spans = NULL;

  if (entries == NULL)
    return FALSE;

  file->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  file->header_cache = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                              (GDestroyNotify) header_free);
  spans = g_array_sized_new (FALSE, FALSE, sizeof (Span), entries->len);
  for (guint i = 0; i < entries->len; i++)
    {
      NpvZipEntry *entry = &g_array_index (entries, NpvZipEntry, i);
      NpvMember *member;

      /* Folders are names, not members. */
      if (g_str_has_suffix (entry->name, "/") && entry->uncompressed_size == 0)
        continue;
      member = npz_member_new (file, entry);
      g_ptr_array_add (file->members, member);
      if (entry->data_offset != 0)
        {
          Span span = { entry->local_header_offset, entry->data_offset + entry->compressed_size, member };

          g_array_append_val (spans, span);
        }
      /* The first of equal names wins, as in numpy's dict of members. */
      if (!g_hash_table_contains (file->by_name, member->name))
        g_hash_table_insert (file->by_name, member->name, member);
      if (!g_hash_table_contains (file->by_name, member->path))
        g_hash_table_insert (file->by_name, member->path, member);
    }
  refuse_overlaps (file, spans);
  g_clear_pointer (&file->header_cache, g_hash_table_unref);
  return TRUE;
}

static NpvInflateIndex *
member_index (NpvFile         *file,
              const NpvMember *member)
{
  NpvInflateIndex *index;

  g_mutex_lock (&file->index_lock);
  index = g_hash_table_lookup (file->indexes, member);
  if (index == NULL)
    {
      gboolean gzip = member->storage == NPV_STORAGE_GZIP;

      index = npv_inflate_index_new (file->source, gzip ? 0 : member->offset,
                                     gzip ? npv_source_get_size (file->source) : member->compressed_size,
                                     gzip ? NPV_INFLATE_GZIP : NPV_INFLATE_RAW, INFLATE_SPAN);
      g_hash_table_insert (file->indexes, (gpointer) member, index);
    }
  npv_inflate_index_ref (index);
  g_mutex_unlock (&file->index_lock);
  return index;
}

/* An .npy.gz: the inflated stream is an .npy; its header comes from the
 * first inflated bytes. */
static gboolean
open_npy_gz (NpvFile  *file,
             GError  **error)
{
  const char *name = npv_source_get_name (file->source);
  NpvMember *member = g_new0 (NpvMember, 1);
  g_autoptr(NpvInflateIndex) index = NULL;
  g_autofree guint8 *prefix = NULL;
  guint8 start[12];
  gsize prefix_len;

  member->name = g_strdup ("");
  member->path = g_strdup ("");
  member->kind = NPV_MEMBER_ARRAY;
  member->storage = NPV_STORAGE_GZIP;
  member->compressed_size = npv_source_get_size (file->source);
  g_ptr_array_add (file->members, member);

  index = member_index (file, member);
  if (!npv_inflate_index_read (index, 0, start, sizeof start, NULL, error))
    return FALSE;
  if (memcmp (start, NPV_NPY_MAGIC, NPV_NPY_MAGIC_LEN) != 0)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                   "%s: a gzip file, but what it holds is not an .npy (no \\x93NUMPY)", name);
      return FALSE;
    }
  prefix_len = start[6] == 1 ? 10 + (start[8] | (start[9] << 8))
                             : 12 + ((gsize) start[8] | ((gsize) start[9] << 8) |
                                     ((gsize) start[10] << 16) | ((gsize) start[11] << 24));
  /* A header cannot be larger than what deflate can promise from the
   * compressed size; refuse absurd lengths before allocating them. */
  if (prefix_len > (gsize) 1032 * npv_source_get_size (file->source) + 64)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                   "%s: the .npy header inside claims %" G_GSIZE_FORMAT " bytes, more than the "
                   "compressed file can hold", name, prefix_len);
      return FALSE;
    }
  prefix = g_malloc (prefix_len);
  if (!npv_inflate_index_read (index, 0, prefix, prefix_len, NULL, error) ||
      !npv_npy_header_parse (&member->header, prefix, prefix_len, name, error))
    return FALSE;
  member->size = member->header.data_offset + member->header.nbytes;
  return TRUE;
}

/* Records with object fields: packed into plain records whose object
 * fields index a table. Elements come in C order. */
static NpvArray *
open_records (const NpvPyObject  *root,
              const NpvDType     *dtype,
              guint               ndim,
              const gint64       *shape,
              const char         *where,
              GError            **error)
{
  g_autoptr(GPtrArray) objects = g_ptr_array_new_with_free_func ((GDestroyNotify) npv_py_object_unref);
  g_autoptr(NpvDType) packed_dtype = npv_dtype_with_object_table (dtype, objects);
  g_autoptr(GBytes) items = npv_py_records_pack (root, packed_dtype, objects, where, error);
  g_autoptr(NpvSource) source = NULL;

  if (items == NULL)
    return NULL;
  source = npv_source_new_for_bytes (items, where);
  return npv_array_new (source, packed_dtype, 0, ndim, shape, FALSE);
}

/* Pickle files: what np.load(allow_pickle=True) would return, read
 * without running it. Arrays anywhere in dicts, lists and tuples become
 * members named by their path ("runs/0/x"); containers holding no array
 * and other values become members too, shown as 0-d object arrays of the
 * value. */

typedef struct
{
  NpvFile *file;
  GHashTable *has_array;   /* container -> GINT_TO_POINTER (1 + holds an array) */
  GHashTable *on_path;     /* containers being walked, against cycles */
} PickleWalk;

static gboolean
is_container (const NpvPyObject *obj)
{
  NpvPyKind kind = npv_py_object_get_kind (obj);

  return kind == NPV_PY_DICT || kind == NPV_PY_LIST || kind == NPV_PY_TUPLE;
}

static NpvPyObject *
container_child (const NpvPyObject *obj,
                 gsize              i)
{
  return npv_py_object_get_kind (obj) == NPV_PY_DICT ? npv_py_object_get_value (obj, i)
                                                      : npv_py_object_get_item (obj, i);
}

/* Whether an array is anywhere below @obj. The loader bounds the depth of
 * trees, so recursion is safe; the memo makes shared subtrees cost once. */
static gboolean
holds_array (PickleWalk        *walk,
             const NpvPyObject *obj)
{
  gpointer known;
  gboolean found = FALSE;

  if (npv_py_object_get_kind (obj) == NPV_PY_NDARRAY)
    return TRUE;
  if (!is_container (obj))
    return FALSE;
  known = g_hash_table_lookup (walk->has_array, obj);
  if (known != NULL)
    return GPOINTER_TO_INT (known) - 1;
  /* A cycle reaching back here adds nothing. */
  g_hash_table_insert (walk->has_array, (gpointer) obj, GINT_TO_POINTER (1));
  for (gsize i = 0; i < npv_py_object_get_n_items (obj) && !found; i++)
    found = holds_array (walk, container_child (obj, i));
  g_hash_table_insert (walk->has_array, (gpointer) obj, GINT_TO_POINTER (1 + found));
  return found;
}

static char *
child_name (const NpvPyObject *obj,
            gsize              i)
{
  NpvPyObject *key;
  gint64 n;

  if (npv_py_object_get_kind (obj) != NPV_PY_DICT)
    return g_strdup_printf ("%" G_GSIZE_FORMAT, i);
  key = npv_py_object_get_key (obj, i);
  if (npv_py_object_get_kind (key) == NPV_PY_STR)
    return g_strdup (npv_py_object_get_str (key, NULL));
  if (npv_py_object_get_kind (key) == NPV_PY_INT && npv_py_object_get_int (key, &n))
    return g_strdup_printf ("%" G_GINT64_FORMAT, n);
  return npv_py_object_repr (key);
}

static void
pickle_member_set_header (NpvMember   *member,
                          NpvDType    *dtype,
                          guint        ndim,
                          const gint64 *shape,
                          gboolean     fortran)
{
  NpvNpyHeader *h = &member->header;

  h->dtype = dtype;
  h->ndim = ndim;
  h->shape = g_new0 (gint64, MAX (ndim, 1));
  h->count = 1;
  for (guint d = 0; d < ndim; d++)
    {
      h->shape[d] = shape[d];
      h->count *= (guint64) shape[d];
    }
  h->fortran_order = fortran;
  h->nbytes = h->count * dtype->itemsize;
  member->size = h->nbytes;
  member->compressed_size = h->nbytes;
}

static NpvMember *
pickle_member_new (PickleWalk  *walk,
                   const char  *name,
                   NpvPyObject *obj)
{
  NpvFile *file = walk->file;
  NpvMember *member = g_new0 (NpvMember, 1);
  const guint8 *mapped = npv_source_get_data (file->source);

  member->name = g_strdup (name);
  member->path = g_strdup (name);
  member->kind = NPV_MEMBER_ARRAY;
  member->storage = NPV_STORAGE_PICKLE;
  member->object = obj;

  if (npv_py_object_get_kind (obj) != NPV_PY_NDARRAY)
    {
      g_autoptr(GPtrArray) table = g_ptr_array_new_with_free_func ((GDestroyNotify) npv_py_object_unref);

      g_ptr_array_add (table, npv_py_object_ref (obj));
      pickle_member_set_header (member, npv_dtype_new_object_table (table), 0, NULL, FALSE);
      return member;
    }

  {
    NpvDType *dtype = npv_py_object_get_dtype (obj);
    guint ndim;
    const gint64 *shape = npv_py_ndarray_get_shape (obj, &ndim);

    if (npv_py_ndarray_has_elements (obj) && dtype->kind == NPV_KIND_OBJECT)
      {
        gint64 count = npv_py_ndarray_get_count (obj);
        g_autoptr(GPtrArray) table = g_ptr_array_new_full (count, (GDestroyNotify) npv_py_object_unref);

        for (gint64 i = 0; i < count; i++)
          g_ptr_array_add (table, npv_py_object_ref (npv_py_ndarray_get_element (obj, i)));
        /* Elements are pickled in C order, whatever the array's order. */
        pickle_member_set_header (member, npv_dtype_new_object_table (table), ndim, shape, FALSE);
        return member;
      }
    pickle_member_set_header (member, npv_dtype_ref (dtype), ndim, shape,
                              npv_py_ndarray_is_fortran (obj));
    if (mapped != NULL && npv_py_ndarray_data_is_borrowed (obj))
      {
        gsize len;
        const guint8 *data = npv_py_ndarray_get_data (obj, &len);

        if (data != NULL && data >= mapped && data + len <= mapped + npv_source_get_size (file->source))
          {
            member->offset = data - mapped;
            member->in_place = TRUE;
          }
      }
  }
  return member;
}

static void
pickle_add_member (PickleWalk  *walk,
                   const char  *name,
                   NpvPyObject *obj)
{
  NpvFile *file = walk->file;
  NpvMember *member = pickle_member_new (walk, name, obj);

  g_ptr_array_add (file->members, member);
  /* Keys may repeat (a dict key "a/b" beside a dict "a" with key "b"): the
   * first wins, as in npz files. */
  if (!g_hash_table_contains (file->by_name, member->name))
    g_hash_table_insert (file->by_name, member->name, member);
}

static void
pickle_walk (PickleWalk  *walk,
             const char  *name,
             NpvPyObject *obj)
{
  if (!is_container (obj) || !holds_array (walk, obj) || g_hash_table_contains (walk->on_path, obj))
    {
      pickle_add_member (walk, name, obj);
      return;
    }

  g_hash_table_add (walk->on_path, obj);
  for (gsize i = 0; i < npv_py_object_get_n_items (obj); i++)
    {
      g_autofree char *child = child_name (obj, i);
      g_autofree char *path = name[0] != '\0' ? g_strconcat (name, "/", child, NULL)
                                              : g_steal_pointer (&child);

      pickle_walk (walk, path, container_child (obj, i));
    }
  g_hash_table_remove (walk->on_path, obj);
}

static gboolean
open_pickle (NpvFile  *file,
             GError  **error)
{
  NpvSource *source = file->source;
  const char *name = npv_source_get_name (source);
  const guint8 *mapped = npv_source_get_data (source);
  guint64 size = npv_source_get_size (source);
  NpvPickleOptions options = { 0, };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  PickleWalk walk = { file, NULL, NULL };

  if (mapped == NULL || size > G_MAXSIZE)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED, "%s: cannot map the pickle", name);
      return FALSE;
    }
  /* The tree borrows array data from these bytes: they keep the mapping. */
  bytes = g_bytes_new_with_free_func (mapped, size, (GDestroyNotify) npv_source_unref,
                                      npv_source_ref (source));
  options.encoding = file->latin1 ? NPV_PY_ENCODING_LATIN1 : NPV_PY_ENCODING_BYTES;
  /* Array data is borrowed, not counted: only the tree itself is bounded. */
  options.max_memory = PICKLE_TREE_BUDGET;
  file->pickle = npv_pickle_load_bytes (bytes, 0, &options, NULL, &local_error);
  if (file->pickle == NULL)
    {
      g_set_error (error, NPV_ERROR, local_error->code, "%s: not a readable pickle: %s", name,
                   local_error->message);
      return FALSE;
    }

  file->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  walk.has_array = g_hash_table_new (NULL, NULL);
  walk.on_path = g_hash_table_new (NULL, NULL);
  pickle_walk (&walk, "", file->pickle);
  g_hash_table_unref (walk.has_array);
  g_hash_table_unref (walk.on_path);
  return TRUE;
}

static NpvArray *
open_pickle_array (NpvFile          *file,
                   const NpvMember  *member,
                   GError          **error)
{
  const NpvNpyHeader *h = &member->header;
  g_autoptr(NpvSource) source = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *where = g_strdup_printf ("%s: member “%s”", npv_source_get_name (file->source),
                                            member->name);

  if (h->dtype->objects != NULL)
    {
      g_autoptr(GByteArray) items = g_byte_array_sized_new (h->count * 8);
      g_autoptr(GBytes) table = NULL;

      for (gint64 i = 0; (guint64) i < h->count; i++)
        g_byte_array_append (items, (const guint8 *) &i, sizeof i);
      table = g_byte_array_free_to_bytes (g_steal_pointer (&items));
      source = npv_source_new_for_bytes (table, where);
      return npv_array_new (source, h->dtype, 0, h->ndim, h->shape, FALSE);
    }
  if (npv_dtype_has_object (h->dtype))
    return open_records (member->object, h->dtype, h->ndim, h->shape, where, error);
  if (member->in_place)
    return npv_array_new (file->source, h->dtype, member->offset, h->ndim, h->shape,
                          h->fortran_order);

  bytes = npv_py_ndarray_dup_data (member->object);
  if (bytes == NULL)
    bytes = g_bytes_new (NULL, 0);
  if (g_bytes_get_size (bytes) < h->nbytes)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: the pickle holds %" G_GSIZE_FORMAT " bytes of data, the array needs %"
                   G_GUINT64_FORMAT, where, g_bytes_get_size (bytes), h->nbytes);
      return NULL;
    }
  source = npv_source_new_for_bytes (bytes, where);
  return npv_array_new (source, h->dtype, 0, h->ndim, h->shape, h->fortran_order);
}

/* Finds the format by the first bytes and reads the members. */
static gboolean
file_parse (NpvFile       *file,
            const guint8  *data,
            guint64        size,
            const char    *name,
            GError       **error)
{
  if (size >= NPV_NPY_MAGIC_LEN && memcmp (data, NPV_NPY_MAGIC, NPV_NPY_MAGIC_LEN) == 0)
    {
      file->format = NPV_FILE_FORMAT_NPY;
      return open_npy (file, error);
    }

  if (size >= 4 && (memcmp (data, "PK\x03\x04", 4) == 0 || memcmp (data, "PK\x05\x06", 4) == 0))
    {
      file->format = NPV_FILE_FORMAT_NPZ;
      return open_npz (file, error);
    }

  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
    {
      file->format = NPV_FILE_FORMAT_NPY_GZ;
      return open_npy_gz (file, error);
    }

  /* Protocol 2+ starts with PROTO; older ones with MARK, an empty list
   * or dict, or the GLOBAL of numpy's reconstruct. */
  if (data[0] == 0x80 || data[0] == '(' || data[0] == ']' || data[0] == '}' || data[0] == 'c')
    {
      file->format = NPV_FILE_FORMAT_PICKLE;
      return open_pickle (file, error);
    }

  {
    g_autoptr(GString) start = g_string_new (NULL);

    for (guint i = 0; i < MIN (size, 8); i++)
      g_string_append_printf (start, "\\x%02x", data[i]);
    g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                 "%s: not a NumPy file: expected \\x93NUMPY (.npy), PK (.npz), \\x1f\\x8b (gzip) "
                 "or a pickle, found %s", name, start->str);
  }
  return FALSE;
}

/* Headers, the zip directory and pickles are parsed in the mapping. */
static gboolean
file_parse_guarded (NpvFile       *file,
                    const guint8  *data,
                    guint64        size,
                    const char    *name,
                    GError       **error)
{
  NpvGuard guard;
  gboolean parsed;

  if (!npv_guard_enter (&guard))
    {
      g_clear_error (error);
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: the file changed on disk while it was being opened (it is shorter now)",
                   name);
      return FALSE;
    }
  parsed = file_parse (file, data, size, name, error);
  npv_guard_leave (&guard);
  return parsed;
}

static NpvFile *
file_open_source (NpvSource     *source,
                  gboolean       in_memory,
                  NpvFileFlags   flags,
                  GError       **error)
{
  g_autoptr(NpvFile) file = g_atomic_rc_box_new0 (NpvFile);
  const guint8 *data = npv_source_get_data (source);
  guint64 size = npv_source_get_size (source);
  const char *name = npv_source_get_name (source);

  file->source = npv_source_ref (source);
  file->in_memory = in_memory;
  file->latin1 = (flags & NPV_FILE_FLAGS_LATIN1) != 0;
  g_mutex_init (&file->index_lock);
  file->indexes = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) npv_inflate_index_unref);
  file->members = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);

  if (size == 0)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                   "%s: the file is empty (expected an .npy, .npz, .npy.gz or pickle file)", name);
      return NULL;
    }

  if (!file_parse_guarded (file, data, size, name, error))
    return NULL;
  build_tree (file);
  return g_steal_pointer (&file);
}

NpvFile *
npv_file_open_full (const char    *path,
                    NpvFileFlags   flags,
                    GError       **error)
{
  g_autoptr(NpvSource) source = npv_source_new_for_path (path, error);

  if (source == NULL)
    return NULL;
  return file_open_source (source, FALSE, flags, error);
}

NpvFile *
npv_file_open (const char  *path,
               GError     **error)
{
  return npv_file_open_full (path, NPV_FILE_FLAGS_NONE, error);
}

NpvFile *
npv_file_open_bytes (GBytes      *bytes,
                     const char  *name,
                     GError     **error)
{
  g_autoptr(NpvSource) source = npv_source_new_for_bytes (bytes, name);

  return file_open_source (source, TRUE, NPV_FILE_FLAGS_NONE, error);
}

const char *
npv_file_get_path (NpvFile *file)
{
  return npv_source_get_name (file->source);
}

NpvFileFormat
npv_file_get_format (NpvFile *file)
{
  return file->format;
}

guint64
npv_file_get_size (NpvFile *file)
{
  return npv_source_get_size (file->source);
}

guint
npv_file_get_n_members (NpvFile *file)
{
  return file->members->len;
}

const NpvMember *
npv_file_get_member (NpvFile *file,
                     guint    index)
{
  g_return_val_if_fail (index < file->members->len, NULL);
  return g_ptr_array_index (file->members, index);
}

static void
append_member_names (GString *out,
                     NpvFile *file)
{
  for (guint i = 0; i < file->members->len && i < 20; i++)
    {
      const NpvMember *member = g_ptr_array_index (file->members, i);

      g_string_append (out, i > 0 ? ", " : "");
      g_string_append (out, member->name);
    }
  if (file->members->len > 20)
    g_string_append_printf (out, " and %u more", file->members->len - 20);
}

const NpvMember *
npv_file_lookup_member (NpvFile     *file,
                        const char  *name,
                        GError     **error)
{
  const char *path = npv_source_get_name (file->source);
  const NpvMember *member;

  if (file->format == NPV_FILE_FORMAT_NPY)
    {
      if (name == NULL || name[0] == '\0')
        return g_ptr_array_index (file->members, 0);
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "%s: no member “%s”: a plain .npy file holds one array and has no members",
                   path, name);
      return NULL;
    }

  if (name == NULL)
    {
      const NpvMember *only = NULL;
      g_autoptr(GString) names = g_string_new (NULL);

      for (guint i = 0; i < file->members->len; i++)
        {
          const NpvMember *m = g_ptr_array_index (file->members, i);

          if (m->kind == NPV_MEMBER_RAW)
            continue;
          if (only != NULL)
            {
              append_member_names (names, file);
              g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                           "%s: holds %u members; choose one (members: %s)",
                           path, file->members->len, names->str);
              return NULL;
            }
          only = m;
        }
      if (only != NULL)
        return only;
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "%s: the archive holds no arrays", path);
      return NULL;
    }

  member = file->by_name != NULL ? g_hash_table_lookup (file->by_name, name) : NULL;
  if (member == NULL)
    {
      g_autoptr(GString) names = g_string_new (NULL);

      append_member_names (names, file);
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT, "%s: no member “%s” (members: %s)",
                   path, name, file->members->len > 0 ? names->str : "none");
      return NULL;
    }
  return member;
}

/* An array of Python objects: the member's data is the pickle of the whole
 * ndarray. Its elements become a table the items index. */
static NpvArray *
open_object_array (NpvFile          *file,
                   const NpvMember  *member,
                   NpvSource        *data_source,
                   guint64           data_start,
                   guint64           data_len,
                   const char       *where,
                   GError          **error)
{
  NpvPickleOptions options = { 0, };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(NpvPyObject) root = NULL;
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(NpvDType) dtype = NULL;
  g_autoptr(GByteArray) items = NULL;
  g_autoptr(NpvSource) table = NULL;
  g_autoptr(GError) local_error = NULL;
  const NpvNpyHeader *h = &member->header;
  const guint8 *mapped = npv_source_get_data (data_source);
  gint64 count;

  if (data_len > MAX_OBJECT_PICKLE)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE,
                   "%s: the pickle of its objects is %" G_GUINT64_FORMAT " bytes, more than the %"
                   G_GUINT64_FORMAT " npyview rebuilds", where, data_len, MAX_OBJECT_PICKLE);
      return NULL;
    }

  /* The tree borrows from these bytes: they keep the mapping alive. */
  if (mapped != NULL)
    bytes = g_bytes_new_with_free_func (mapped + data_start, data_len,
                                        (GDestroyNotify) npv_source_unref,
                                        npv_source_ref (data_source));
  else
    {
      guint8 *copy = g_malloc (data_len);

      if (!npv_source_read (data_source, data_start, copy, data_len, error))
        {
          g_free (copy);
          return NULL;
        }
      bytes = g_bytes_new_take (copy, data_len);
    }

  options.encoding = file->latin1 ? NPV_PY_ENCODING_LATIN1 : NPV_PY_ENCODING_BYTES;
  options.max_memory = PICKLE_TREE_BUDGET;
  root = npv_pickle_load_bytes (bytes, 0, &options, NULL, &local_error);
  if (root == NULL)
    {
      g_set_error (error, NPV_ERROR, local_error->code, "%s: the objects cannot be read: %s",
                   where, local_error->message);
      return NULL;
    }
  if (npv_py_object_get_kind (root) != NPV_PY_NDARRAY || !npv_py_ndarray_has_elements (root))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                   "%s: expected the pickle of an object array, found %s", where,
                   npv_py_kind_to_string (npv_py_object_get_kind (root)));
      return NULL;
    }
  count = npv_py_ndarray_get_count (root);
  if ((guint64) count != h->count)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                   "%s: the header promises %" G_GUINT64_FORMAT " objects, the pickle holds %"
                   G_GINT64_FORMAT, where, h->count, count);
      return NULL;
    }
  if (h->dtype->kind != NPV_KIND_OBJECT)
    return open_records (root, h->dtype, h->ndim, h->shape, where, error);

  /* Elements come in C order, whatever the array's order. */
  objects = g_ptr_array_new_full (count, (GDestroyNotify) npv_py_object_unref);
  items = g_byte_array_sized_new (count * 8);
  for (gint64 i = 0; i < count; i++)
    {
      g_ptr_array_add (objects, npv_py_object_ref (npv_py_ndarray_get_element (root, i)));
      g_byte_array_append (items, (const guint8 *) &i, sizeof i);
    }
  dtype = npv_dtype_new_object_table (objects);
  {
    g_autoptr(GBytes) table_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&items));

    table = npv_source_new_for_bytes (table_bytes, where);
  }
  return npv_array_new (table, dtype, 0, h->ndim, h->shape, FALSE);
}

static NpvArray *
open_array (NpvFile          *file,
            const NpvMember  *member,
            GError          **error)
{
  const char *path = npv_source_get_name (file->source);

  switch (member->kind)
    {
    case NPV_MEMBER_BROKEN:
      g_set_error_literal (error, member->error->domain, member->error->code,
                           member->error->message);
      return NULL;
    case NPV_MEMBER_RAW:
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "%s: member “%s” is not an array (%" G_GUINT64_FORMAT " bytes of another kind)",
                   path, member->path, member->size);
      return NULL;
    case NPV_MEMBER_ARRAY:
    default:
      break;
    }

  if (member->storage == NPV_STORAGE_PICKLE)
    return open_pickle_array (file, member, error);

  if (member->storage == NPV_STORAGE_DEFLATE || member->storage == NPV_STORAGE_GZIP)
    {
      g_autoptr(NpvInflateIndex) index = member_index (file, member);
      g_autofree char *name = member->path[0] != '\0'
                              ? g_strdup_printf ("%s: member “%s”", path, member->path)
                              : g_strdup (path);
      g_autoptr(NpvSource) inflated = NULL;
      guint64 size = member->size;

      /* A gzip file holding objects: the pickle's end is not known. */
      if (member->storage == NPV_STORAGE_GZIP && npv_inflate_index_is_complete (index))
        size = npv_inflate_index_get_size (index);
      inflated = npv_source_new_for_inflate (index, size, name);
      if (npv_dtype_has_object (member->header.dtype))
        return open_object_array (file, member, inflated, member->header.data_offset,
                                  size - MIN (size, member->header.data_offset), name, error);
      return npv_array_new (inflated, member->header.dtype, member->header.data_offset,
                            member->header.ndim, member->header.shape, member->header.fortran_order);
    }

  if (npv_dtype_has_object (member->header.dtype))
    {
      g_autofree char *name = member->path[0] != '\0'
                              ? g_strdup_printf ("%s: member “%s”", path, member->path)
                              : g_strdup (path);
      guint64 start = member->offset + member->header.data_offset;
      guint64 end = member->offset + member->size;

      return open_object_array (file, member, file->source, start, end - MIN (end, start),
                                name, error);
    }

  if (!npv_npy_header_check_size (&member->header, member->size, path, error))
    return NULL;

  return npv_array_new (file->source, member->header.dtype,
                        member->offset + member->header.data_offset,
                        member->header.ndim, member->header.shape, member->header.fortran_order);
}

gboolean
npv_file_build_index (NpvFile            *file,
                      const NpvMember    *member,
                      GCancellable       *cancellable,
                      gboolean          (*progress) (guint64  done,
                                                     guint64  total,
                                                     gpointer user_data),
                      gpointer            user_data,
                      GError            **error)
{
  g_autoptr(NpvInflateIndex) index = NULL;
  gboolean gzip = member->storage == NPV_STORAGE_GZIP;

  if (member->kind != NPV_MEMBER_ARRAY ||
      (member->storage != NPV_STORAGE_DEFLATE && member->storage != NPV_STORAGE_GZIP))
    return TRUE;

  index = member_index (file, member);
  if (npv_inflate_index_is_complete (index))
    return TRUE;
  if (!npv_inflate_index_build (index, !gzip, member->crc32, gzip ? G_MAXUINT64 : member->size,
                                cancellable, progress, user_data, error))
    {
      const char *name = npv_source_get_name (file->source);

      /* Say which member: "f.npz: member “x.npy”: CRC-32 mismatch ...". */
      if (error != NULL && *error != NULL && member->path[0] != '\0' &&
          g_str_has_prefix ((*error)->message, name) &&
          g_str_has_prefix ((*error)->message + strlen (name), ": "))
        {
          char *message = g_strdup_printf ("%s: member “%s”: %s", name, member->path,
                                           (*error)->message + strlen (name) + 2);

          g_free ((*error)->message);
          (*error)->message = message;
        }
      return FALSE;
    }

  /* A gzip file has no size up front: check what the header promised. */
  if (gzip && npv_inflate_index_get_size (index) < member->size)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: truncated data: the header promises %" G_GUINT64_FORMAT
                   " bytes of data but the file has only %" G_GUINT64_FORMAT " after the header",
                   npv_source_get_name (file->source), member->header.nbytes,
                   npv_inflate_index_get_size (index) - MIN (npv_inflate_index_get_size (index),
                                                             member->header.data_offset));
      return FALSE;
    }
  return TRUE;
}

NpvArray *
npv_file_open_array (NpvFile          *file,
                     const NpvMember  *member,
                     GError          **error)
{
  NpvGuard guard;
  NpvArray *array;

  /* Pickled data is copied out of the mapping here. */
  if (!npv_guard_enter (&guard))
    {
      g_clear_error (error);
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: the file changed on disk (it is shorter now)",
                   npv_source_get_name (file->source));
      return NULL;
    }
  array = open_array (file, member, error);
  npv_guard_leave (&guard);
  return array;
}
