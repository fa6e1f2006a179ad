"""The test lab: real hosts on this machine (network namespaces with sshd and Docker each),
a registry, S3 (moto), Redis and locally built images. See README.md beside this file."""
