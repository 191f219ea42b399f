#!/usr/bin/env python3
"""moto_server, with each EC2 resource reading its own tags by key.

moto finds the tags of one instance by scanning every tag of every resource
in the region (TaggedEC2Resource.get_tags calls describe_tags with a
resource-id filter). Rendering a DescribeInstances reply of k instances
among N tagged ones then costs k x N regular-expression matches: at 10,000
tagged instances, about 10 s for 200 ids, so the benchmark would measure
moto's scan instead of our worker. This looks the id up in the same
dictionary and returns the same list. Nothing else changes: signatures,
policies, filters and replies are moto's own. Benchmarks only.
"""
import sys

from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix
from moto.server import main


def get_tags(self):
    if not self.id:
        return []
    kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(self.id), "")
    return [{"resource_id": self.id, "key": k, "value": v, "resource_type": kind}
            for k, v in self.ec2_backend.tags.get(self.id, {}).items()]


TaggedEC2Resource.get_tags = get_tags
sys.exit(main())
