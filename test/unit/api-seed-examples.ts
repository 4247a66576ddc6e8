// The seeds' example TrainingJobs verbatim, shared by the api and policy unit tests.

// Seed 001, Step 2.4: the first TrainingJob of the Kopf operator guide.
export const testJobYaml = `
apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: test-job
  namespace: default
spec:
  model: resnet50
  dataset: imagenet
  numWorkers: 2
  gpusPerWorker: 1
  hyperparameters:
    learningRate: 0.001
    batchSize: 32
    epochs: 10
`;

// Seed 000, Step 2: examples/trainingjob-simple.yaml in namespace ml-training (the guide shows only its name
// and namespace; the spec follows seed 001's simple example).
export const resnetSimpleYaml = `
apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: resnet-simple
  namespace: ml-training
spec:
  model: resnet18
  dataset: cifar10
  numWorkers: 1
  gpusPerWorker: 1
  hyperparameters:
    learningRate: 0.01
    batchSize: 64
    epochs: 5
`;

// Seed 002, Part 4: config/samples/ml_v1alpha1_trainingjob.yaml of the operator-sdk lab.
export const pytorchMnistYaml = `
apiVersion: ml.example.com/v1alpha1
kind: TrainingJob
metadata:
  name: pytorch-mnist
  namespace: ml-jobs
spec:
  framework: pytorch
  image: pytorch/pytorch:1.12.0-cuda11.3
  command:
  - python
  - -m
  - torch.distributed.run
  - --nproc_per_node=1
  - /workspace/train_mnist.py
  args:
  - --epochs=10
  - --batch-size=64
  workers: 2
  gpuPerWorker: 0  # Use 0 for CPU-only testing
  resources:
    requests:
      cpu: "2"
      memory: 4Gi
    limits:
      cpu: "2"
      memory: 4Gi
  hyperparameters:
    learningRate: "0.001"
    optimizer: "adam"
`;
