/* sts.c: STS GetCallerIdentity, to say who we are. */
#include "config.h"

#include <stdio.h>

#include "services.h"

int sts_get_caller_identity(struct aws_client *c, struct caller_identity *id,
			    char *err, size_t errlen)
{
	struct aws_call *call = aws_call_query(&aws_sts, "GetCallerIdentity");
	const struct xml_node *r;
	int rc = -1;

	if (aws_perform_one(c, call) < 0) {
		aws_call_error(call, err, errlen);
		goto out;
	}
	r = xml_child(call->xml, "GetCallerIdentityResult");
	if (!r || !xml_child(r, "Arn") || !xml_child(r, "Account")) {
		snprintf(err, errlen,
			 "sts GetCallerIdentity: reply without Arn/Account");
		goto out;
	}
	snprintf(id->arn, sizeof(id->arn), "%s", xml_path_text(r, "Arn"));
	snprintf(id->account, sizeof(id->account), "%s",
		 xml_path_text(r, "Account"));
	snprintf(id->user_id, sizeof(id->user_id), "%s",
		 xml_child(r, "UserId") ? xml_path_text(r, "UserId") : "");
	rc = 0;
out:
	aws_call_free(call);
	return rc;
}
