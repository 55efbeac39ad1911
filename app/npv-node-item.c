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

GListStore *
npv_node_item_list_children (NpvFile       *file,
                             const NpvNode *node)
{
  GListStore *store = g_list_store_new (NPV_TYPE_NODE_ITEM);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; node->children != NULL && i < node->children->len; i++)
    g_ptr_array_add (items, npv_node_item_new (file, g_ptr_array_index (node->children, i)));
  /* One splice: a model of 100,000 members is announced once, not 100,000 times. */
  g_list_store_splice (store, 0, 0, items->pdata, items->len);
  return store;
}
