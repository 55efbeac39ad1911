/* npv-node-item.h: one node of a file's member tree, for list models
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "npv-file.h"

G_BEGIN_DECLS

#define NPV_TYPE_NODE_ITEM (npv_node_item_get_type ())
G_DECLARE_FINAL_TYPE (NpvNodeItem, npv_node_item, NPV, NODE_ITEM, GObject)

/* @node belongs to @file, which the item keeps alive. */
NpvNodeItem     *npv_node_item_new        (NpvFile       *file,
                                           const NpvNode *node);
NpvFile         *npv_node_item_get_file   (NpvNodeItem   *self);
const NpvNode   *npv_node_item_get_node   (NpvNodeItem   *self);
/* The node's member, or %NULL for a folder. */
const NpvMember *npv_node_item_get_member (NpvNodeItem   *self);

#define NPV_TYPE_NODE_LIST (npv_node_list_get_type ())
G_DECLARE_FINAL_TYPE (NpvNodeList, npv_node_list, NPV, NODE_LIST, GObject)

/* A GListModel of items for @nodes (of const NpvNode of @file), each made
 * when first asked for: opening an archive of a million members costs
 * nothing per member here. A long list is streamed: it starts with its
 * first 20,000 nodes and grows by as many at each idle moment of the main
 * loop, until npv_node_list_is_complete(). @nodes must not change. */
NpvNodeList     *npv_node_list_new           (NpvFile       *file,
                                              GPtrArray     *nodes);
gboolean         npv_node_list_is_complete   (NpvNodeList   *self);
/* Lists the rest at once. */
void             npv_node_list_finish        (NpvNodeList   *self);

/* The list of items for the children of @node (empty for a leaf). */
NpvNodeList     *npv_node_item_list_children (NpvFile       *file,
                                              const NpvNode *node);

G_END_DECLS
