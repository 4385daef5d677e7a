/* Every kind of bad config.json gives an exact, path-named message:
 * parse errors (types, ranges, names, required fields, syntax) and
 * crt_spec_validate's cross-field checks. */
#include "config.h"
#include "test_spec.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "util/util.h"

/* The tables write JSON with ' for " to stay readable; this swaps back. */
static char *
dq (const char *s)
{
  char *r = crt_xstrdup (s);
  for (char *p = r; *p; p++)
    if (*p == '\'')
      *p = '"';
  return r;
}

#define V "'ociVersion':'1.2.0'"
#define PROC "'process':{'args':['sh'],'cwd':'/'}"
#define LINUX(x) "{" V ",'linux':{" x "}}"
#define RES(x) LINUX ("'resources':{" x "}")
#define SECCOMP(x) LINUX ("'seccomp':{'defaultAction':'SCMP_ACT_ALLOW'," x "}")
#define PROCESS(x) "{" V ",'process':{'args':['sh'],'cwd':'/'," x "}}"

static const struct
{
  const char *json;
  const char *message;
} parse_cases[] = {
  /* shapes */
  { "[]", "config.json: expected an object" },
  { "{" V ",'process':{'args':'sh','cwd':'/'}}",
    "config.json: process.args: expected an array of strings" },
  { "{" V ",'process':{'args':['sh',1],'cwd':'/'}}",
    "config.json: process.args[1]: expected a string" },
  { "{" V ",'process':[]}", "config.json: process: expected an object" },
  { "{" V ",'mounts':{}}", "config.json: mounts: expected an array" },
  { "{" V ",'mounts':[1]}", "config.json: mounts[0]: expected an object" },
  { "{" V ",'mounts':[{'destination':'/a','options':[true]}]}",
    "config.json: mounts[0].options[0]: expected a string" },
  { "{" V ",'annotations':{'a':'b','c':1}}", "config.json: annotations.c: expected a string" },
  { "{" V ",'annotations':[]}", "config.json: annotations: expected an object" },
  { PROCESS ("'terminal':'yes'"), "config.json: process.terminal: expected a boolean" },
  { "{" V ",'hostname':7}", "config.json: hostname: expected a string" },
  /* numbers */
  { PROCESS ("'user':{'uid':-1,'gid':0}"),
    "config.json: process.user.uid: expected an unsigned 32-bit integer" },
  { PROCESS ("'user':{'uid':4294967296,'gid':0}"),
    "config.json: process.user.uid: expected an unsigned 32-bit integer" },
  { PROCESS ("'user':{'uid':1.5,'gid':0}"),
    "config.json: process.user.uid: expected an unsigned 32-bit integer" },
  { PROCESS ("'user':{'uid':'0','gid':0}"),
    "config.json: process.user.uid: expected an unsigned 32-bit integer" },
  { PROCESS ("'user':{'additionalGids':[1,-2]}"),
    "config.json: process.user.additionalGids[1]: expected an unsigned 32-bit integer" },
  { PROCESS ("'oomScoreAdj':1001"),
    "config.json: process.oomScoreAdj: expected an integer between -1000 and 1000" },
  { PROCESS ("'rlimits':[{'type':'RLIMIT_CORE','hard':18446744073709551616,'soft':0}]"),
    "config.json: process.rlimits[0].hard: expected an unsigned 64-bit integer" },
  { PROCESS ("'scheduler':{'policy':'SCHED_OTHER','nice':2147483648}"),
    "config.json: process.scheduler.nice: expected a 32-bit integer" },
  { PROCESS ("'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':8}"),
    "config.json: process.ioPriority.priority: expected an integer between 0 and 7" },
  { RES ("'memory':{'limit':'1G'}"),
    "config.json: linux.resources.memory.limit: expected a 64-bit integer" },
  { RES ("'memory':{'limit':9223372036854775808}"),
    "config.json: linux.resources.memory.limit: expected a 64-bit integer" },
  { RES ("'memory':{'swappiness':-1}"),
    "config.json: linux.resources.memory.swappiness: expected an unsigned 64-bit integer" },
  { RES ("'blockIO':{'weight':65536}"),
    "config.json: linux.resources.blockIO.weight: expected an unsigned 16-bit integer" },
  { RES ("'blockIO':{'weightDevice':[{'major':8,'minor':0,'leafWeight':70000}]}"),
    "config.json: linux.resources.blockIO.weightDevice[0].leafWeight: "
    "expected an unsigned 16-bit integer" },
  { "{" V ",'hooks':{'prestart':[{'path':'/bin/true','timeout':0}]}}",
    "config.json: hooks.prestart[0].timeout: expected an integer between 1 and 2147483647" },
  { LINUX ("'timeOffsets':{'monotonic':{'nanosecs':-1}}"),
    "config.json: linux.timeOffsets.monotonic.nanosecs: expected an unsigned 32-bit integer" },
  { SECCOMP ("'syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
             "'args':[{'index':6,'value':0,'op':'SCMP_CMP_EQ'}]}]"),
    "config.json: linux.seccomp.syscalls[0].args[0].index: expected an integer between 0 and 5" },
  /* enumerated names */
  { LINUX ("'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'bogus'}]"),
    "config.json: linux.namespaces[2].type: unknown namespace \"bogus\"" },
  { PROCESS ("'rlimits':[{'type':'RLIMIT_FOO','hard':1,'soft':1}]"),
    "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"" },
  { LINUX ("'devices':[{'path':'/dev/x','type':'x','major':1,'minor':1}]"),
    "config.json: linux.devices[0].type: unknown device type \"x\"" },
  { LINUX ("'devices':[{'path':'/dev/x','type':'cc','major':1,'minor':1}]"),
    "config.json: linux.devices[0].type: unknown device type \"cc\"" },
  { RES ("'devices':[{'allow':true,'type':'p'}]"),
    "config.json: linux.resources.devices[0].type: unknown device type \"p\"" },
  { RES ("'devices':[{'allow':true,'access':'rwx'}]"),
    "config.json: linux.resources.devices[0].access: "
    "expected a combination of \"r\", \"w\" and \"m\", got \"rwx\"" },
  { PROCESS ("'ioPriority':{'class':'IOPRIO_CLASS_NONE','priority':0}"),
    "config.json: process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\"" },
  { PROCESS ("'scheduler':{'policy':'SCHED_FAST'}"),
    "config.json: process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\"" },
  { PROCESS ("'scheduler':{'policy':'SCHED_RR','flags':['SCHED_FLAG_RECLAIM','X']}"),
    "config.json: process.scheduler.flags[1]: unknown scheduler flag \"X\"" },
  { LINUX ("'personality':{'domain':'LINUX64'}"),
    "config.json: linux.personality.domain: unknown personality domain \"LINUX64\"" },
  { LINUX ("'timeOffsets':{'realtime':{'secs':1}}"),
    "config.json: linux.timeOffsets.realtime: unknown clock \"realtime\"" },
  { SECCOMP ("'flags':['SECCOMP_FILTER_FLAG_FOO']"),
    "config.json: linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_FOO\"" },
  { LINUX ("'seccomp':{'defaultAction':'SCMP_ACT_BOGUS'}"),
    "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_BOGUS\"" },
  { SECCOMP ("'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_Z80']"),
    "config.json: linux.seccomp.architectures[1]: unknown seccomp architecture \"SCMP_ARCH_Z80\"" },
  { SECCOMP ("'syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
             "'args':[{'index':0,'value':0,'op':'SCMP_CMP_FOO'}]}]"),
    "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_FOO\"" },
  { SECCOMP ("'syscalls':[{'names':[],'action':'SCMP_ACT_ALLOW'}]"),
    "config.json: linux.seccomp.syscalls[0].names: must contain at least one entry" },
  { LINUX ("'memoryPolicy':{'mode':'MPOL_FOO'}"),
    "config.json: linux.memoryPolicy.mode: unknown memory policy mode \"MPOL_FOO\"" },
  { LINUX ("'memoryPolicy':{'mode':'MPOL_BIND','nodes':'0','flags':['MPOL_F_BAR']}"),
    "config.json: linux.memoryPolicy.flags[0]: unknown memory policy flag \"MPOL_F_BAR\"" },
  { LINUX ("'rootfsPropagation':'bogus'"),
    "config.json: linux.rootfsPropagation: unknown rootfs propagation \"bogus\"" },
  /* versions */
  { "{'ociVersion':'2.0.0'}", "config.json: ociVersion: unsupported version \"2.0.0\"" },
  { "{'ociVersion':'10.0.0'}", "config.json: ociVersion: unsupported version \"10.0.0\"" },
  { "{'ociVersion':'1.0'}", "config.json: ociVersion: unsupported version \"1.0\"" },
  { "{'ociVersion':1}", "config.json: ociVersion: expected a string" },
  /* required fields and single-object MUSTs */
  { "{}", "config.json: ociVersion: required field is missing" },
  { "{" V ",'root':{'readonly':true}}", "config.json: root.path: required field is missing" },
  { "{" V ",'process':{'args':['sh']}}", "config.json: process.cwd: required field is missing" },
  { "{" V ",'process':{'args':['sh'],'cwd':null}}",
    "config.json: process.cwd: required field is missing" },
  { "{" V ",'process':{'cwd':'/'}}", "config.json: process.args: required field is missing" },
  { "{" V ",'process':{'args':[],'cwd':'/'}}",
    "config.json: process.args: must contain at least one entry" },
  { "{" V ",'process':{'args':['sh'],'cwd':'tmp'}}",
    "config.json: process.cwd: must be an absolute path, got \"tmp\"" },
  { PROCESS ("'consoleSize':{'height':24}"),
    "config.json: process.consoleSize.width: required field is missing" },
  { "{" V ",'mounts':[{'type':'tmpfs'}]}",
    "config.json: mounts[0].destination: required field is missing" },
  { "{" V ",'mounts':[{'destination':''}]}",
    "config.json: mounts[0].destination: must not be empty" },
  { LINUX ("'namespaces':[{'path':'/proc/1/ns/pid'}]"),
    "config.json: linux.namespaces[0].type: required field is missing" },
  { LINUX ("'uidMappings':[{'containerID':0,'hostID':0}]"),
    "config.json: linux.uidMappings[0].size: required field is missing" },
  { LINUX ("'devices':[{'path':'/dev/x','type':'c','major':1}]"),
    "config.json: linux.devices[0].minor: required field is missing" },
  { RES ("'devices':[{'access':'rwm'}]"),
    "config.json: linux.resources.devices[0].allow: required field is missing" },
  { RES ("'blockIO':{'weightDevice':[{'major':8,'minor':0}]}"),
    "config.json: linux.resources.blockIO.weightDevice[0]: "
    "needs at least one of weight and leafWeight" },
  { RES ("'rdma':{'mlx5_1':{}}"),
    "config.json: linux.resources.rdma.mlx5_1: needs at least one of hcaHandles and hcaObjects" },
  { RES ("'hugepageLimits':[{'limit':1}]"),
    "config.json: linux.resources.hugepageLimits[0].pageSize: required field is missing" },
  { "{" V ",'hooks':{'poststop':[{'args':['x']}]}}",
    "config.json: hooks.poststop[0].path: required field is missing" },
  { LINUX ("'seccomp':{}"), "config.json: linux.seccomp.defaultAction: required field is missing" },
  { PROCESS ("'scheduler':{}"), "config.json: process.scheduler.policy: required field is missing" },
  /* malformed JSON: position of the offending token */
  { "{\n  'ociVersion': ,\n}",
    "config.json: ociVersion: line 2, column 17: parse error: unallowed token at this point in JSON text" },
  { "{\n  'ociVersion': '1.2.0'\n",
    "config.json: line 3, column 1: parse error: premature EOF" },
  { "", "config.json: line 1, column 1: parse error: premature EOF" },
  { "{'a' 1}",
    "config.json: a: line 1, column 6: parse error: object key and value must be separated "
    "by a colon (':')" },
  { "{\n\t'ociVersion': '1.2.0'\n} x",
    "config.json: line 3, column 3: parse error: trailing garbage" },
  { "{'mounts': [1,]}",
    "config.json: mounts[1]: line 1, column 15: parse error: unallowed token at this point in JSON text" },
  /* what the tree would hide: a NUL would cut the string, and yajl lets
   * overlong UTF-8 through */
  { "{'hostname': 'a\\u0000b'}",
    "config.json: hostname: line 1, column 23: contains a NUL character (\\u0000)" },
  { "{'annotations': {'a\\u0000': 'b'}}",
    "config.json: annotations: line 1, column 26: a key contains a NUL character (\\u0000)" },
  { "{'hostname': '\xc0\xaf'}", "config.json: hostname: line 1, column 17: invalid UTF-8" },
};

/* A config that parses, with the message crt_spec_validate must give
 * (NULL: valid). */
static const struct
{
  const char *json;
  const char *message;
} validate_cases[] = {
  { "{" V "," PROC "}", NULL },
  /* values the kernel would refuse later, naming no field */
  { PROCESS ("'user':{'uid':0,'gid':0,'umask':511}"), NULL },
  { PROCESS ("'user':{'uid':0,'gid':0,'umask':512}"),
    "config.json: process.user.umask: must be at most 0777 (511), got 512" },
  { "{" V ",'hostname':'0123456789012345678901234567890123456789012345678901234567890123',"
    "'linux':{'namespaces':[{'type':'uts'}]}}", NULL },
  { "{" V ",'hostname':'01234567890123456789012345678901234567890123456789012345678901234',"
    "'linux':{'namespaces':[{'type':'uts'}]}}", "config.json: hostname: longer than 64 bytes" },
  { RES ("'memory':{'limit':-1,'swap':-1,'reservation':0}"), NULL },
  { RES ("'memory':{'limit':-2}"),
    "config.json: linux.resources.memory.limit: must be -1 (unlimited) or at least 0, got -2" },
  { PROCESS ("'rlimits':[{'type':'RLIMIT_NOFILE','hard':1024,'soft':2048}]"),
    "config.json: process.rlimits[0]: soft limit 2048 is greater than hard limit 1024" },
  { PROCESS ("'rlimits':[{'type':'RLIMIT_NOFILE','hard':1,'soft':1},"
             "{'type':'RLIMIT_CORE','hard':1,'soft':1},{'type':'RLIMIT_NOFILE','hard':2,'soft':2}]"),
    "config.json: process.rlimits[2]: duplicate rlimit \"RLIMIT_NOFILE\"" },
  /* (uid_t) -1 means "unchanged" to setresuid: never a user to run as. */
  { PROCESS ("'user':{'uid':4294967295,'gid':0}"),
    "config.json: process.user.uid: 4294967295 is not a valid id" },
  { PROCESS ("'user':{'uid':0,'gid':4294967295}"),
    "config.json: process.user.gid: 4294967295 is not a valid id" },
  { PROCESS ("'user':{'uid':0,'gid':0,'additionalGids':[1,4294967295]}"),
    "config.json: process.user.additionalGids[1]: 4294967295 is not a valid id" },
  { PROCESS ("'user':{'uid':4294967294,'gid':4294967294}"), NULL },
  { LINUX ("'namespaces':[{'type':'pid'},{'type':'mount'},{'type':'ipc'},{'type':'pid'}]"),
    "config.json: linux.namespaces[3]: duplicate namespace \"pid\"" },
  { LINUX ("'namespaces':[{'type':'network','path':'run/netns/x'}]"),
    "config.json: linux.namespaces[0].path: must be an absolute path, got \"run/netns/x\"" },
  { LINUX ("'namespaces':[{'type':'user'}]"), NULL },
  { LINUX ("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'hostID':1000,'size':1}]"),
    NULL },
  { LINUX ("'namespaces':[{'type':'user','path':'/proc/1/ns/user'}]"), NULL },
  { "{" V ",'process':{'args':['sh'],'cwd':'/','user':{'uid':1001,'gid':0}},"
    "'linux':{'namespaces':[{'type':'user'}]}}",
    "config.json: process.user.uid: 1001 is not mapped in the new user namespace "
    "(without linux.uidMappings only 0 is)" },
  { "{" V ",'process':{'args':['sh'],'cwd':'/','user':{'uid':0,'gid':0,'additionalGids':[0,5]}},"
    "'linux':{'namespaces':[{'type':'user'}]}}",
    "config.json: process.user.additionalGids[1]: 5 is not mapped in the new user namespace "
    "(without linux.gidMappings only 0 is)" },
  { LINUX ("'uidMappings':[{'containerID':0,'hostID':1000,'size':1}],"
           "'gidMappings':[{'containerID':0,'hostID':1000,'size':1}]"),
    "config.json: linux.uidMappings: set without a user namespace" },
  { LINUX ("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'hostID':1000,'size':1}],"
           "'gidMappings':[{'containerID':0,'hostID':1000,'size':0}]"),
    "config.json: linux.gidMappings[0].size: must be greater than 0" },
  { LINUX ("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':4294967295,"
           "'hostID':1000,'size':2}],'gidMappings':[{'containerID':0,'hostID':1000,'size':1}]"),
    "config.json: linux.uidMappings[0]: range exceeds the 32-bit id space" },
  { LINUX ("'timeOffsets':{'monotonic':{'secs':10}}"),
    "config.json: linux.timeOffsets: set without a new time namespace" },
  { LINUX ("'namespaces':[{'type':'time','path':'/proc/1/ns/time'}],'timeOffsets':{'boottime':{}}"),
    "config.json: linux.timeOffsets: set without a new time namespace" },
  { LINUX ("'namespaces':[{'type':'time'}],'timeOffsets':{'monotonic':{'secs':-5,'nanosecs':1}}"),
    NULL },
  { "{" V ",'hooks':{'createRuntime':[{'path':'/bin/true'}],'startContainer':[{'path':'true'}]}}",
    "config.json: hooks.startContainer[0].path: must be an absolute path, got \"true\"" },
  { LINUX ("'devices':[{'path':'dev/null','type':'c','major':1,'minor':3}]"),
    "config.json: linux.devices[0].path: must be an absolute path, got \"dev/null\"" },
  { "{" V ",'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1,'size':1}]}]}",
    "config.json: mounts[0]: uidMappings and gidMappings must be given together" },
  { "{" V ",'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1,'size':1}],"
    "'gidMappings':[{'containerID':0,'hostID':1,'size':0}]}]}",
    "config.json: mounts[0].gidMappings[0].size: must be greater than 0" },
  /* relative destinations are deprecated, not invalid: made absolute */
  { "{" V ",'mounts':[{'destination':'tmp','type':'tmpfs'}]}", NULL },
  { LINUX ("'maskedPaths':['/proc/kcore','proc/keys']"),
    "config.json: linux.maskedPaths[1]: must be an absolute path, got \"proc/keys\"" },
  { LINUX ("'readonlyPaths':['sys']"),
    "config.json: linux.readonlyPaths[0]: must be an absolute path, got \"sys\"" },
  { SECCOMP ("'defaultErrnoRet':1"),
    "config.json: linux.seccomp.defaultErrnoRet: not allowed with action SCMP_ACT_ALLOW" },
  { SECCOMP ("'syscalls':[{'names':['read'],'action':'SCMP_ACT_KILL','errnoRet':1}]"),
    "config.json: linux.seccomp.syscalls[0].errnoRet: not allowed with action SCMP_ACT_KILL" },
  { SECCOMP ("'listenerMetadata':'x'"),
    "config.json: linux.seccomp.listenerMetadata: set without listenerPath" },
  { LINUX ("'intelRdt':{'memBwSchema':'L3:0=f'}"),
    "config.json: linux.intelRdt.memBwSchema: must start with \"MB:\" and be one line" },
  /* process.scheduler: the kernel's rules for SCHED_DEADLINE, runc's
   * for which field goes with which policy */
#define SCHED(x) PROCESS ("'scheduler':{" x "}")
  { SCHED ("'policy':'SCHED_DEADLINE','runtime':10000000,'deadline':30000000,"
           "'period':30000000"), NULL },
  { SCHED ("'policy':'SCHED_DEADLINE','runtime':10000000,'deadline':30000000"), NULL },
  { SCHED ("'policy':'SCHED_DEADLINE','deadline':30000000"),
    "config.json: process.scheduler.runtime: SCHED_DEADLINE needs one greater than 0" },
  { SCHED ("'policy':'SCHED_DEADLINE','runtime':10000000,'deadline':0"),
    "config.json: process.scheduler.deadline: SCHED_DEADLINE needs one greater than 0" },
  { SCHED ("'policy':'SCHED_DEADLINE','runtime':1000,'deadline':30000000"),
    "config.json: process.scheduler.runtime: 1000 is not within [1024, 2^63) nanoseconds" },
  { SCHED ("'policy':'SCHED_DEADLINE','runtime':10000,'deadline':9223372036854775808"),
    "config.json: process.scheduler.deadline: 9223372036854775808 is not within [1024, 2^63) "
    "nanoseconds" },
  { SCHED ("'policy':'SCHED_DEADLINE','runtime':20000,'deadline':10000,'period':30000"),
    "config.json: process.scheduler.runtime: 20000 is greater than deadline 10000" },
  { SCHED ("'policy':'SCHED_DEADLINE','runtime':10000,'deadline':30000,'period':20000"),
    "config.json: process.scheduler.deadline: 30000 is greater than period 20000" },
  { SCHED ("'policy':'SCHED_OTHER','period':20000"),
    "config.json: process.scheduler.period: only SCHED_DEADLINE takes one, not SCHED_OTHER" },
  { SCHED ("'policy':'SCHED_BATCH','priority':3"),
    "config.json: process.scheduler.priority: only SCHED_FIFO and SCHED_RR take one, not "
    "SCHED_BATCH" },
  { SCHED ("'policy':'SCHED_FIFO'"),
    "config.json: process.scheduler.priority: 0 is not within [1, 99] (SCHED_FIFO)" },
  { SCHED ("'policy':'SCHED_RR','priority':50"), NULL },
  { SCHED ("'policy':'SCHED_OTHER','nice':20"),
    "config.json: process.scheduler.nice: 20 is not within [-20, 19]" },
#undef SCHED
  /* linux.memoryPolicy (set_mempolicy(2)), process.execCPUAffinity */
#define MPOL(x) LINUX ("'memoryPolicy':{" x "}")
  { MPOL ("'mode':'MPOL_INTERLEAVE','nodes':'0-3,7','flags':['MPOL_F_STATIC_NODES']"), NULL },
  { MPOL ("'mode':'MPOL_PREFERRED'"), NULL },
  { MPOL ("'mode':'MPOL_LOCAL'"), NULL },
  { MPOL ("'mode':'MPOL_BIND'"),
    "config.json: linux.memoryPolicy.nodes: MPOL_BIND needs at least one node" },
  { MPOL ("'mode':'MPOL_DEFAULT','nodes':'1'"),
    "config.json: linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes" },
  { MPOL ("'mode':'MPOL_LOCAL','flags':['MPOL_F_RELATIVE_NODES']"),
    "config.json: linux.memoryPolicy.flags[0]: MPOL_LOCAL takes no flags" },
  { MPOL ("'mode':'MPOL_BIND','nodes':'3-1'"),
    "config.json: linux.memoryPolicy.nodes: \"3-1\" is not a list of node numbers below 1024 "
    "like \"0-3,7\"" },
  { MPOL ("'mode':'MPOL_BIND','nodes':'0,','flags':[]"),
    "config.json: linux.memoryPolicy.nodes: \"0,\" is not a list of node numbers below 1024 "
    "like \"0-3,7\"" },
  { MPOL ("'mode':'MPOL_BIND','nodes':'0','flags':['MPOL_F_STATIC_NODES','MPOL_F_RELATIVE_NODES']"),
    "config.json: linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES "
    "exclude each other" },
  { MPOL ("'mode':'MPOL_INTERLEAVE','nodes':'0','flags':['MPOL_F_NUMA_BALANCING']"),
    "config.json: linux.memoryPolicy.flags: MPOL_F_NUMA_BALANCING goes with MPOL_BIND or "
    "MPOL_PREFERRED_MANY only, not MPOL_INTERLEAVE" },
  { PROCESS ("'execCPUAffinity':{'initial':'0-1','final':'1'}"), NULL },
  { PROCESS ("'execCPUAffinity':{'final':'1-x'}"),
    "config.json: process.execCPUAffinity.final: \"1-x\" is not a list of CPU numbers below "
    "1024 like \"0-3,7\"" },
#undef MPOL
  /* linux.sysctl: runc's rules (libcontainer/configs/validate) */
#define NS(t) "{'type':'" t "'}"
#define SYSCTL(ns, kv) LINUX ("'namespaces':[" ns "],'sysctl':{" kv "}")
  { SYSCTL (NS ("ipc"), "'kernel.shmmax':'1','kernel.sem':'1 2 3 4','fs.mqueue.msg_max':'9'"),
    NULL },
  { SYSCTL (NS ("uts"), "'fs.mqueue.msg_max':'9'"),
    "config.json: linux.sysctl: \"fs.mqueue.msg_max\" needs the container's own ipc namespace, "
    "refusing to set it on the host" },
  { SYSCTL (NS ("ipc"), "'kernel.shm_next_id':'1'"),
    "config.json: linux.sysctl: \"kernel.shm_next_id\" is not namespaced, refusing to set it" },
  { SYSCTL (NS ("network"), "'net/ipv4/ip_forward':'1','net.ipv4.conf.all.forwarding':'1'"), NULL },
  { SYSCTL (NS ("ipc"), "'net.ipv4.ip_forward':'1'"),
    "config.json: linux.sysctl: \"net.ipv4.ip_forward\" needs the container's own network "
    "namespace, refusing to set it on the host" },
  { SYSCTL (NS ("network"), "'vm.swappiness':'1'"),
    "config.json: linux.sysctl: \"vm.swappiness\" is not namespaced, refusing to set it" },
  { SYSCTL (NS ("network"), "'net..x':'1'"), "config.json: linux.sysctl: invalid key \"net..x\"" },
  { SYSCTL (NS ("network"), "'net/../../kernel/x':'1'"),
    "config.json: linux.sysctl: invalid key \"net/../../kernel/x\"" },
  { SYSCTL (NS ("network"), "'net.ipv4.':'1'"), "config.json: linux.sysctl: invalid key \"net.ipv4.\"" },
  { SYSCTL (NS ("uts"), "'kernel.domainname':'a.test','kernel.hostname':'h'"), NULL },
  { SYSCTL (NS ("ipc"), "'kernel.domainname':'a.test'"),
    "config.json: linux.sysctl: \"kernel.domainname\" needs the container's own uts namespace, "
    "refusing to set it on the host" },
  { "{" V ",'domainname':'b.test','linux':{'namespaces':[" NS ("uts") "],"
    "'sysctl':{'kernel.domainname':'a.test'}}}",
    "config.json: linux.sysctl: \"kernel.domainname\" is \"a.test\", which conflicts with "
    "domainname \"b.test\"" },
  { "{" V ",'domainname':'a.test','linux':{'namespaces':[" NS ("uts") "],"
    "'sysctl':{'kernel.domainname':'a.test'}}}", NULL },
  { "{" V ",'hostname':'box','linux':{'namespaces':[" NS ("uts") "],"
    "'sysctl':{'kernel/hostname':'other'}}}",
    "config.json: linux.sysctl: \"kernel/hostname\" is \"other\", which conflicts with "
    "hostname \"box\"" },
  { SYSCTL ("{'type':'user','path':'/proc/1/ns/user'}", "'user.max_user_namespaces':'3'"), NULL },
  { SYSCTL (NS ("uts"), "'user.max_user_namespaces':'3'"),
    "config.json: linux.sysctl: \"user.max_user_namespaces\" needs the container's own user "
    "namespace, refusing to set it on the host" },
#undef SYSCTL
#undef NS
  { "{" V ",'hostname':'box'}", "config.json: hostname: set without a uts namespace" },
  { "{" V ",'hostname':'box','linux':{'namespaces':[{'type':'uts','path':'/proc/1/ns/uts'}]}}",
    NULL },
};

void
test_spec_parse_errors (void)
{
  for (size_t i = 0; i < CRT_ARRAY_SIZE (parse_cases); i++)
    {
      cleanup_free char *json = dq (parse_cases[i].json);
      crt_spec *spec = NULL;
      crt_error *err = NULL;
      int rc = crt_spec_parse (json, NULL, &spec, &err);

      tap_ok (rc < 0 && spec == NULL, "parse error %zu fails", i);
      tap_str_eq (err ? err->msg : NULL, parse_cases[i].message, parse_cases[i].message);
      crt_spec_free (spec);
      crt_error_free (&err);
    }
}

void
test_spec_validate_cases (void)
{
  for (size_t i = 0; i < CRT_ARRAY_SIZE (validate_cases); i++)
    {
      cleanup_free char *json = dq (validate_cases[i].json);
      const char *want = validate_cases[i].message;
      cleanup_spec crt_spec *spec = NULL;
      crt_error *err = NULL;

      if (!tap_ok (crt_spec_parse (json, NULL, &spec, &err) == 0, "validate case %zu parses", i))
        {
          printf ("#   %s\n", err->msg);
          crt_error_free (&err);
          continue;
        }
      TAP_INT_EQ (crt_spec_validate (spec, &err), want ? -1 : 0, want ? want : "valid config");
      tap_str_eq (err ? err->msg : NULL, want, want ? want : "no message");
      crt_error_free (&err);
    }
}

/* An error's reason reads as glibc words it, with musl too (the musl
 * build runs these): ELOOP and ENAMETOOLONG are two musl words
 * differently ("Symbolic link loop", "Filename too long"). */
void
test_error_texts (void)
{
  crt_error *err = NULL;

  tap_str_eq (crt_strerror (ELOOP), "Too many levels of symbolic links", "ELOOP text");
  tap_str_eq (crt_strerror (ENAMETOOLONG), "File name too long", "ENAMETOOLONG text");
  tap_str_eq (crt_strerror (EBUSY), "Device or resource busy", "EBUSY text");
  tap_str_eq (crt_strerror (ENOENT), "No such file or directory", "ENOENT text");
  crt_error_set (&err, ELOOP, "open `%s`", "/a");
  tap_str_eq (err ? err->msg : NULL, "open `/a`: Too many levels of symbolic links",
              "crt_error_set spells errnum with crt_strerror");
  crt_error_free (&err);
}
