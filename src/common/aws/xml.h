/* xml.h: a small, strict XML reader for AWS Query/EC2 replies.
 *
 * It builds a tree of elements and their text. Namespace prefixes are
 * dropped, attributes are skipped, DOCTYPE and entity definitions are
 * refused (no entity expansion attacks), depth and size are bounded.
 */
#ifndef SLURM_IDENTITY_XML_H
#define SLURM_IDENTITY_XML_H

#include <stdbool.h>
#include <stddef.h>

struct xml_node {
	char *name;
	char *text;		/* concatenated character data, never NULL */
	struct xml_node *children;
	struct xml_node *next;	/* next sibling */
};

/* Parse len bytes; NULL with a reason in err on malformed input. */
struct xml_node *xml_parse(const char *data, size_t len, char *err,
			   size_t errlen);
void xml_free(struct xml_node *node);

/* One large list of a reply, an item at a time. A DescribeInstances of
 * 1,000 instances is 5 MB of XML that becomes 15 MB of elements; read this
 * way, only one item is held at a time. */
struct xml_each {
	/* Below the root element, e.g. "reservationSet/item/instancesSet":
	 * each child element of what it names (of every element it names)
	 * goes to fn, and is not in the tree. */
	const char *path;
	/* Called for each item, in order, only once the whole reply is known
	 * to be well formed; the item is freed after the call. A non-zero
	 * return fails the parse. */
	int (*fn)(const struct xml_node *item, void *arg);
	void *arg;
	bool found;		/* set: the path was there */
};

/* As xml_parse, with each->path's items handed to each->fn instead. */
struct xml_node *xml_parse_each(const char *data, size_t len,
				struct xml_each *each, char *err, size_t errlen);

/* First child element called name, or NULL. */
const struct xml_node *xml_child(const struct xml_node *node,
				 const char *name);
/* Follow "a/b/c" from node through first children; NULL if absent. */
const struct xml_node *xml_path(const struct xml_node *node, const char *path);
/* Text at path, or NULL. */
const char *xml_path_text(const struct xml_node *node, const char *path);

#endif
