/* npv-node-item.c: one node of a file's member tree, for list models
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "npv-node-item.h"

struct _NpvNodeItem
{
  GObject parent_instance;

  NpvFile *file;
  const NpvNode *node;
};

G_DEFINE_FINAL_TYPE (NpvNodeItem, npv_node_item, G_TYPE_OBJECT)

static void
npv_node_item_finalize (GObject *object)
{
  NpvNodeItem *self = NPV_NODE_ITEM (object);

  g_clear_pointer (&self->file, npv_file_unref);
  G_OBJECT_CLASS (npv_node_item_parent_class)->finalize (object);
}

static void
npv_node_item_class_init (NpvNodeItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = npv_node_item_finalize;
}

static void
npv_node_item_init (NpvNodeItem *self)
{
}

NpvNodeItem *
npv_node_item_new (NpvFile       *file,
                   const NpvNode *node)
{
  NpvNodeItem *self = g_object_new (NPV_TYPE_NODE_ITEM, NULL);

  self->file = npv_file_ref (file);
  self->node = node;
  return self;
}

NpvFile *
npv_node_item_get_file (NpvNodeItem *self)
{
  g_return_val_if_fail (NPV_IS_NODE_ITEM (self), NULL);
  return self->file;
}

const NpvNode *
npv_node_item_get_node (NpvNodeItem *self)
{
  g_return_val_if_fail (NPV_IS_NODE_ITEM (self), NULL);
  return self->node;
}

const NpvMember *
npv_node_item_get_member (NpvNodeItem *self)
{
  g_return_val_if_fail (NPV_IS_NODE_ITEM (self), NULL);
  return self->node->member;
}

/* ------------------------------------------------------------------ */
/* NpvNodeList: the items of many nodes, made when asked for. An archive
 * of a million members lists at once: nothing is made for the rows that
 * are never shown. */

struct _NpvNodeList
{
  GObject parent_instance;

  NpvFile *file;
  GPtrArray *nodes;   /* of const NpvNode, borrowed from @file */
  GPtrArray *items;   /* of NpvNodeItem or NULL, as @nodes; made on demand */
  guint n_shown;      /* the first nodes listed so far */
  guint stream_source;
};

/* Long lists are announced a batch at a time, between frames: even the
 * row bookkeeping of a list view costs too much for a million rows at once. */
#define STREAM_BATCH 20000

/* Positions never asked for hold NULL. */
static void
item_unref (gpointer item)
{
  if (item != NULL)
    g_object_unref (item);
}

static GType
npv_node_list_get_item_type (GListModel *model)
{
  return NPV_TYPE_NODE_ITEM;
}

static guint
npv_node_list_get_n_items (GListModel *model)
{
  return NPV_NODE_LIST (model)->n_shown;
}

static gpointer
npv_node_list_get_item (GListModel *model,
                        guint       position)
{
  NpvNodeList *self = NPV_NODE_LIST (model);
  NpvNodeItem *item;

  if (position >= self->n_shown)
    return NULL;
  /* One item a position, so that it stays the same object when asked again. */
  item = g_ptr_array_index (self->items, position);
  if (item == NULL)
    {
      item = npv_node_item_new (self->file, g_ptr_array_index (self->nodes, position));
      g_ptr_array_index (self->items, position) = item;
    }
  return g_object_ref (item);
}

static void
npv_node_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = npv_node_list_get_item_type;
  iface->get_n_items = npv_node_list_get_n_items;
  iface->get_item = npv_node_list_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (NpvNodeList, npv_node_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, npv_node_list_model_init))

static void
npv_node_list_finalize (GObject *object)
{
  NpvNodeList *self = NPV_NODE_LIST (object);

  g_clear_handle_id (&self->stream_source, g_source_remove);
  g_ptr_array_unref (self->items);
  g_ptr_array_unref (self->nodes);
  g_clear_pointer (&self->file, npv_file_unref);
  G_OBJECT_CLASS (npv_node_list_parent_class)->finalize (object);
}

static void
npv_node_list_class_init (NpvNodeListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = npv_node_list_finalize;
}

static void
npv_node_list_init (NpvNodeList *self)
{
}

static gboolean
stream_more (gpointer user_data)
{
  NpvNodeList *self = user_data;
  guint before = self->n_shown;

  self->n_shown = MIN (self->nodes->len, before + STREAM_BATCH);
  g_list_model_items_changed (G_LIST_MODEL (self), before, 0, self->n_shown - before);
  if (self->n_shown < self->nodes->len)
    return G_SOURCE_CONTINUE;
  self->stream_source = 0;
  return G_SOURCE_REMOVE;
}

NpvNodeList *
npv_node_list_new (NpvFile   *file,
                   GPtrArray *nodes)
{
  NpvNodeList *self = g_object_new (NPV_TYPE_NODE_LIST, NULL);

  self->file = npv_file_ref (file);
  self->nodes = g_ptr_array_ref (nodes);
  self->items = g_ptr_array_new_full (nodes->len, item_unref);
  g_ptr_array_set_size (self->items, nodes->len);
  self->n_shown = MIN (nodes->len, STREAM_BATCH);
  if (self->n_shown < nodes->len)
    self->stream_source = g_idle_add (stream_more, self);
  return self;
}

void
npv_node_list_finish (NpvNodeList *self)
{
  guint before;

  g_return_if_fail (NPV_IS_NODE_LIST (self));
  if (self->n_shown == self->nodes->len)
    return;
  g_clear_handle_id (&self->stream_source, g_source_remove);
  before = self->n_shown;
  self->n_shown = self->nodes->len;
  g_list_model_items_changed (G_LIST_MODEL (self), before, 0, self->n_shown - before);
}

gboolean
npv_node_list_is_complete (NpvNodeList *self)
{
  g_return_val_if_fail (NPV_IS_NODE_LIST (self), FALSE);
  return self->n_shown == self->nodes->len;
}

NpvNodeList *
npv_node_item_list_children (NpvFile       *file,
                             const NpvNode *node)
{
  g_autoptr(GPtrArray) none = NULL;

  if (node->children != NULL)
    return npv_node_list_new (file, node->children);
  none = g_ptr_array_new ();
  return npv_node_list_new (file, none);
}
