/* xml.h: a small, strict XML reader for AWS Query/EC2 replies.
 *
 * It builds a tree of elements and their text. Namespace prefixes are
 * dropped, attributes are skipped, DOCTYPE and entity definitions are
 * refused (no entity expansion attacks), depth and size are bounded.
 */
#ifndef SLURM_IDENTITY_XML_H
#define SLURM_IDENTITY_XML_H

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

/* First child element called name, or NULL. */
const struct xml_node *xml_child(const struct xml_node *node,
				 const char *name);
/* Follow "a/b/c" from node through first children; NULL if absent. */
const struct xml_node *xml_path(const struct xml_node *node, const char *path);
/* Text at path, or NULL. */
const char *xml_path_text(const struct xml_node *node, const char *path);

#endif
