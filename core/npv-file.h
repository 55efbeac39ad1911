/* npv-file.h: a file opened by its content, and the members in it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "npv-array.h"
#include "npv-npy.h"
#include "npv-pyobject.h"
#include "npv-source.h"

G_BEGIN_DECLS

typedef enum {
  NPV_FILE_FORMAT_NPY,
  NPV_FILE_FORMAT_NPZ,
  NPV_FILE_FORMAT_NPY_GZ,
  NPV_FILE_FORMAT_PICKLE,
} NpvFileFormat;

typedef enum {
  NPV_STORAGE_MAPPED,   /* a plain .npy, memory-mapped */
  NPV_STORAGE_STORED,   /* an uncompressed zip member, mapped in place */
  NPV_STORAGE_DEFLATE,  /* a compressed zip member */
  NPV_STORAGE_GZIP,
  NPV_STORAGE_PICKLE,
  NPV_STORAGE_MEMORY,   /* made in memory (examples) */
} NpvStorage;

typedef struct _NpvFile NpvFile;
typedef struct _NpvMember NpvMember;

typedef enum {
  NPV_MEMBER_ARRAY,    /* an .npy: header is valid */
  NPV_MEMBER_RAW,      /* another file in an archive: bytes only */
  NPV_MEMBER_BROKEN,   /* an .npy that cannot be read: see error */
} NpvMemberKind;

/* One member of a file. Immutable; owned by its NpvFile. */
struct _NpvMember
{
  char *name;            /* "" for a plain .npy; the key for archives (x for x.npy) */
  char *path;            /* the name in the archive ("x.npy"); "" for a plain .npy */
  NpvMemberKind kind;
  NpvStorage storage;
  NpvNpyHeader header;   /* ARRAY only; header.data_offset counts from offset */
  guint64 offset;        /* where the member's bytes start in the file */
  guint64 size;          /* its uncompressed size */
  guint64 compressed_size;
  guint32 crc32;         /* of the uncompressed bytes, for zip members */
  GError *error;         /* BROKEN only: why, naming the file and member */
  /* ARRAY: the data bytes are in the file as they are, from offset +
   * header.data_offset (not for compressed members, nor for pickled ones
   * whose data had to be rebuilt). */
  gboolean in_place;
  /* Pickle files: the value (borrowed from the file's tree). Arrays have
   * it as their NDARRAY; other values are shown as 0-d object arrays. */
  NpvPyObject *object;
};

typedef enum {
  NPV_FILE_FLAGS_NONE   = 0,
  /* Python 2 strings in pickles (object arrays, pickle files) are decoded
   * as latin1 rather than kept as bytes, like numpy.load's encoding. */
  NPV_FILE_FLAGS_LATIN1 = 1 << 0,
} NpvFileFlags;

/* Member names with "/" form a tree: "dir/b" is the node "b" inside the
 * node "dir". A node may be a member and hold others too ("a" beside
 * "a/x"). Empty parts are dropped, except that a leading "/" is a node of
 * its own, so "/abs" never looks like "abs". Nodes are immutable and owned
 * by their NpvFile. */
typedef struct _NpvNode NpvNode;

struct _NpvNode
{
  char *name;                /* the last part: "b"; "" for the root */
  char *path;                /* "dir/b"; "" for the root */
  const NpvMember *member;   /* %NULL for a folder */
  GPtrArray *children;       /* of NpvNode, in the order of the members; %NULL when none */
};

/* Opens @path and finds what it holds by its first bytes, never by its
 * name. Errors name the file and say what was expected and found. */
NpvFile         *npv_file_open            (const char     *path,
                                           GError        **error);
NpvFile         *npv_file_open_full       (const char     *path,
                                           NpvFileFlags    flags,
                                           GError        **error);

/* The same for bytes in memory; @name is used in messages. */
NpvFile         *npv_file_open_bytes      (GBytes         *bytes,
                                           const char     *name,
                                           GError        **error);

NpvFile         *npv_file_ref             (NpvFile        *file);
void             npv_file_unref           (NpvFile        *file);

const char      *npv_file_get_path        (NpvFile        *file);
NpvFileFormat    npv_file_get_format      (NpvFile        *file);
guint64          npv_file_get_size        (NpvFile        *file);
guint            npv_file_get_n_members   (NpvFile        *file);
const NpvMember *npv_file_get_member      (NpvFile        *file,
                                           guint           index);
/* The root of the member tree (a plain .npy: one child, its array). */
const NpvNode   *npv_file_get_tree        (NpvFile        *file);

/* By name; archives also accept the name with ".npy". %NULL names the
 * only array of a file that has exactly one. For a plain .npy file only ""
 * (or %NULL) names the array. */
const NpvMember *npv_file_lookup_member   (NpvFile        *file,
                                           const char     *name,
                                           GError        **error);

/* Compressed members (deflate, gzip) are read through an index of restart
 * points. Reads work at once, but reach far into the member quickly only
 * once this has run: it inflates the member once, checking its CRC and
 * size, with @progress called now and then from this thread. Thread-safe;
 * does nothing for other members or when the index is complete. */
gboolean         npv_file_build_index     (NpvFile            *file,
                                           const NpvMember    *member,
                                           GCancellable       *cancellable,
                                           gboolean          (*progress) (guint64  done,
                                                                         guint64  total,
                                                                         gpointer user_data),
                                           gpointer            user_data,
                                           GError            **error);

/* A view of all of the member's items. Fails for object arrays (their data
 * is a pickle) and when the data is shorter than the header promises. */
NpvArray        *npv_file_open_array      (NpvFile         *file,
                                           const NpvMember *member,
                                           GError         **error);

const char      *npv_file_format_to_string (NpvFileFormat  format);
const char      *npv_storage_to_string     (NpvStorage     storage);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvFile, npv_file_unref)

G_END_DECLS
