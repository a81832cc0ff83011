/**
 * A classic-protocol partition assigner that keeps partition numbers together: partition `p` of every
 * subscribed topic goes to the same member, because the join needs `device_location` p and `device_status` p
 * in one place (the topics are keyed by device and have equal partition counts).
 */
import type { GroupPartitionsAssigner, GroupPartitionsAssignments } from '@platformatic/kafka';

export const copartitionedAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const memberIds = [...members.keys()].sort();
  const result = new Map<string, GroupPartitionsAssignments>(
    memberIds.map((memberId) => [memberId, { memberId, assignments: new Map() }]),
  );
  const counts = [...topics].map((t) => metadata.topics.get(t)?.partitionsCount ?? 0);
  const partitions = Math.min(...counts);
  for (let p = 0; p < partitions; p++) {
    const member = result.get(memberIds[p % memberIds.length] as string) as GroupPartitionsAssignments;
    for (const topic of topics) {
      let assignment = member.assignments.get(topic);
      if (!assignment) {
        assignment = { topic, partitions: [] };
        member.assignments.set(topic, assignment);
      }
      assignment.partitions.push(p);
    }
  }
  return [...result.values()];
};
